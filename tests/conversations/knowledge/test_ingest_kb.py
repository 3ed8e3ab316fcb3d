"""`manage.py ingest_kb CHATBOT FLOW PATH...`."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from chatplatform.models import LocalVector
from conversations.models import KnowledgeDocument
from tests.conversations.knowledge.conftest import DATA, SHIPPING_MD, long_markdown

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("ingest_kb", *[str(arg) for arg in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "kb"
    (root / "nested").mkdir(parents=True)
    (root / "shipping.md").write_text(SHIPPING_MD)
    (root / "nested" / "guide.txt").write_text(long_markdown(30))
    shutil.copy(DATA / "photosynthesis.pdf", root / "nested")
    (root / "nested" / "ignored.png").write_bytes(b"\x89PNG")
    return root


def test_it_ingests_files_and_folders_with_a_progress_bar(chatbot, folder, settings):
    settings.KB_CHUNK_TOKENS = 100

    out, err = run("vinbar", "flow2", folder)

    assert f"{folder / 'shipping.md'}: ready (1 chunks)" in out
    guide = KnowledgeDocument.objects.get(source_name="guide.txt")
    assert f"{folder / 'nested' / 'guide.txt'}: ready ({guide.chunk_count} chunks)" in out
    assert "photosynthesis.pdf: ready" in out
    assert "3 document(s) ready." in out
    assert f"] {guide.chunk_count}/{guide.chunk_count} chunks  guide.txt" in err
    assert "[" + "#" * 30 + "]" in err
    assert set(KnowledgeDocument.objects.values_list("flow", "status").distinct()) == {("flow2", "ready")}
    assert LocalVector.objects.filter(index_name="vinbar-products", namespace="vinbar").count() == (
        guide.chunk_count + 1 + KnowledgeDocument.objects.get(source_name="photosynthesis.pdf").chunk_count
    )


def test_a_bad_file_is_reported_and_the_command_fails_after_the_others(chatbot, tmp_path):
    good, bad = tmp_path / "good.md", tmp_path / "bad.pdf"
    good.write_text(SHIPPING_MD)
    bad.write_bytes(b"%PDF-1.4 broken")

    with pytest.raises(CommandError, match="1 of 2 file"):
        run("vinbar", "default", bad, good)

    assert KnowledgeDocument.objects.get().source_name == "good.md"


def test_its_output_names_the_failure(chatbot, tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    out = io.StringIO()

    with pytest.raises(CommandError):
        call_command("ingest_kb", "vinbar", "default", str(bad), stdout=out, stderr=io.StringIO())

    assert f'{bad}: failed: "bad.pdf" could not be read as PDF; the file may be damaged.' in out.getvalue()


def test_a_missing_path_fails(chatbot, tmp_path):
    with pytest.raises(CommandError):
        run("vinbar", "default", tmp_path / "nope.md")


def test_an_unknown_chatbot_fails(tmp_path):
    with pytest.raises(CommandError, match="no chatbot 'ghost'"):
        run("ghost", "default", tmp_path)


def test_running_it_again_replaces_the_documents(chatbot, folder):
    run("vinbar", "default", folder / "shipping.md")
    (folder / "shipping.md").write_text("# Shipping\n\nWe no longer ship.")

    out, _ = run("vinbar", "default", folder / "shipping.md")

    assert "ready (1 chunks)" in out
    assert KnowledgeDocument.objects.count() == 1
    assert LocalVector.objects.get().metadata["text"].endswith("We no longer ship.")


def test_a_flow_without_an_index_fails_every_file(chatbot, folder):
    with pytest.raises(CommandError, match="1 of 1"):
        run("vinbar", "flow4", folder / "shipping.md")
