"""Shops' existing Pinecone indexes, read as their old system wrote them (`knowledge/layouts.py`).

The index `kaffebaren-general` below holds records in the old shape: the passage under `content`,
the page under `url` and `title`, in the index's default namespace, embedded at the dimension
of the model the SQL names (`text-embedding-ada-002`, 1536; with the local provider the vectors
are feature hashes of that width, as `embedder_for` makes them for questions).
"""

import io
import logging
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command

from chatplatform.vectorstores.base import VectorRecord
from chatplatform.vectorstores.pinecone import PineconeVectorStore, pinecone_cache_clear
from conversations.chat.retrieval import retrieve, sources_of
from conversations.flows import chatbot_flows_ensure
from conversations.knowledge.layouts import embedder_for
from conversations.models import ChatbotSettings
from conversations.services import chatbot_api_key_create
from tests.conversations.chat_helpers import kb_add
from tests.conversations.factories import ChatbotFactory
from tests.fakes.pinecone_server import FakePineconeServer

SEED_SQL = Path(__file__).resolve().parents[1] / "data" / "chatbots" / "chatbot_settings.sql"
KAFFE_KEY = "fake-pcsk-kaffe'baren-0003"  # the key the seed SQL gives kaffebaren
OLD_RECORDS = {
    "old-1": {
        "content": "Levering med GLS til pakkeshop koster 39 kr og tager 1-2 hverdage.",
        "title": "Levering og fragt",
        "url": "https://kaffebaren.example/levering",
    },
    "old-2": {
        "content": "Bønnerne ristes hver tirsdag i vores risteri i Aarhus.",
        "title": "Om risteriet",
        "url": "https://kaffebaren.example/risteri",
    },
    "old-3": {
        "content": "Returnering er gratis inden for 30 dage, når posen er uåbnet.",
        "title": "Returnering",
        "url": "https://kaffebaren.example/retur",
    },
}


@pytest.fixture
def pinecone(settings):
    server = FakePineconeServer(api_key=KAFFE_KEY).start()
    settings.PINECONE_CONTROLLER_HOST = server.controller_host
    settings.PINECONE_TIMEOUT_SECONDS = 2
    # Every server here shares the SQL's key: no client or index host may outlive its server.
    pinecone_cache_clear()
    try:
        yield server
    finally:
        server.stop()
        pinecone_cache_clear()


def old_index(server: FakePineconeServer, name: str = "kaffebaren-general", *, namespace: str = "") -> None:
    """An index written by the old system: its shape, its namespace, its model's width."""
    server.create_index(name, 1536)
    store = PineconeVectorStore(
        api_key=server.api_key,
        index_name=name,
        namespace=namespace,
        default_namespace=not namespace,
        controller_host=server.controller_host,
    )
    ids = list(OLD_RECORDS)
    vectors = embedder_for("text-embedding-ada-002").embed([OLD_RECORDS[i]["content"] for i in ids])
    store.upsert([VectorRecord(i, v, OLD_RECORDS[i]) for i, v in zip(ids, vectors, strict=True)])


def import_seed_sql() -> None:
    call_command("import_chatbots", SEED_SQL, stdout=io.StringIO(), stderr=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_shop_imported_from_sql_answers_from_its_old_index_with_the_right_source(client, pinecone):
    old_index(pinecone)
    import_seed_sql()
    _, key = chatbot_api_key_create(chatbot_id="kaffebaren", name="tests")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    conversation = client.post("/api/v1/chatbots/kaffebaren/conversations/", **auth).json()["id"]

    response = client.post(
        f"/api/v1/chatbots/kaffebaren/conversations/{conversation}/messages/",
        {"text": "Hvad koster levering til pakkeshop med GLS?"},
        content_type="application/json",
        **auth,
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert "39 kr" in body["text"]
    assert body["sources"][0] == {
        "title": "Levering og fragt",
        "section": "",
        "score": body["sources"][0]["score"],
        "url": "https://kaffebaren.example/levering",
    }
    queries = pinecone.requests_to("/query")
    assert queries
    assert all(not request.body.get("namespace") for request in queries)  # the default namespace


@pytest.mark.django_db
def test_a_flow_overrides_the_namespace_and_fields_and_platform_records_still_read(pinecone):
    pinecone.create_index("shop-general", 512)
    chatbot = ChatbotFactory(chatbot_id="shop", pinecone_api_key=KAFFE_KEY, flow2_knowledgebase_index="")
    chatbot_flows_ensure(chatbot=chatbot)
    kb_add(chatbot, "shop-general", {"Shipping": "Shipping with GLS costs 49 DKK."})
    flow = chatbot.flows.get(name="default")
    flow.pinecone_namespace, flow.metadata_text_field, flow.metadata_source_field = "", "body", "link"
    flow.save()
    legacy = PineconeVectorStore(
        api_key=KAFFE_KEY, index_name="shop-general", namespace="", default_namespace=True
    )
    legacy.upsert(
        [
            VectorRecord(
                "legacy-1",
                embedder_for("").embed(["Returns are free within 30 days."])[0],
                {"body": "Returns are free within 30 days.", "link": "https://shop.example/returns"},
            )
        ]
    )
    # The platform's own records stay in the chatbot's namespace; the flow now reads "".
    chatbot.refresh_from_db()

    found = async_to_sync(retrieve)(chatbot=chatbot, flow=flow, question="Are returns free within 30 days?")

    assert [chunk.text for chunk in found.chunks] == ["Returns are free within 30 days."]
    (source,) = sources_of(found.chunks)
    # Without a title the page's URL is the name shown.
    assert (source["title"], source["url"]) == (
        "https://shop.example/returns",
        "https://shop.example/returns",
    )
    # Records this platform wrote (text, source = the document's title) read under any mapping.
    flow.pinecone_namespace = None
    found = async_to_sync(retrieve)(chatbot=chatbot, flow=flow, question="What does GLS shipping cost?")
    assert sources_of(found.chunks)[0]["title"] == "Shipping"
    assert "url" not in sources_of(found.chunks)[0]


@pytest.mark.django_db
def test_a_model_of_another_dimension_than_the_index_is_reported_not_answered_from(pinecone):
    old_index(pinecone)
    import_seed_sql()
    chatbot = ChatbotSettings.objects.get(chatbot_id="kaffebaren")
    chatbot.embedding_model = ""  # the platform's local embedder: 512, not the index's 1536
    chatbot.save()

    found = async_to_sync(retrieve)(
        chatbot=chatbot, flow=chatbot.flows.get(name="default"), question="levering"
    )

    assert found.error_code == "vector_store_dimension_mismatch"
    assert found.chunks == []


def run_check(staff_client, chatbot) -> str:
    response = staff_client.post(
        "/admin/conversations/chatbotsettings/",
        {"action": "check_pinecone_connection", "_selected_action": [chatbot.pk]},
        follow=True,
    )
    return " | ".join(str(message) for message in response.context["messages"])


@pytest.mark.django_db
def test_the_check_reports_the_index_and_proposes_the_mapping_of_a_sample_record(
    staff_client, pinecone, caplog
):
    caplog.set_level(logging.DEBUG)
    old_index(pinecone)
    import_seed_sql()
    chatbot = ChatbotSettings.objects.get(chatbot_id="kaffebaren")
    chatbot.metadata_source_field = "source"  # as if the SQL had not said url
    chatbot.save()

    report = run_check(staff_client, chatbot)

    assert "kaffebaren-general: Ready: dimension 1536, 3 vectors, 3 in the default namespace." in report
    assert "The model text-embedding-ada-002 has the index's dimension." in report
    assert "A sample record has the metadata fields content, title, url." in report
    assert "Proposed mapping: text=content, title=title, source=url" in report
    assert KAFFE_KEY not in report
    assert KAFFE_KEY not in caplog.text

    chatbot.embedding_model = "text-embedding-3-large"
    chatbot.metadata_text_field = "text"
    chatbot.save()
    report = run_check(staff_client, chatbot)

    assert "makes vectors of dimension 3072, not 1536" in report
    assert 'Without a "text" field no passage can be read' in report
    assert KAFFE_KEY not in report + caplog.text


@pytest.mark.django_db
def test_the_check_names_the_namespaces_that_hold_records_when_the_configured_one_is_empty(
    staff_client, pinecone
):
    old_index(pinecone)
    import_seed_sql()
    chatbot = ChatbotSettings.objects.get(chatbot_id="kaffebaren")
    chatbot.pinecone_namespace = None  # the chatbot's id, where the old system wrote nothing
    chatbot.save()

    report = run_check(staff_client, chatbot)

    assert 'Namespace "kaffebaren" holds no records; namespaces with records: (default).' in report


def test_the_proposal_prefers_url_values_and_the_longest_text():
    from chatplatform.vectorstores.pinecone_check import FieldMapping, propose_fields

    defaults = FieldMapping("text", "title", "source")

    assert propose_fields(
        {"page_content": "A long passage about coffee.", "heading": "Coffee", "href": "https://x.example/c"},
        defaults,
    ) == FieldMapping("page_content", "heading", "href")
    assert propose_fields(
        {"passage_text": "The passage itself, longest of all.", "lang": "da", "link_to": "http://x.example"},
        defaults,
    ) == FieldMapping("passage_text", "", "link_to")
    assert propose_fields({"text": "t", "source": "Shipping"}, defaults) == FieldMapping("text", "", "source")


@pytest.mark.django_db
def test_staff_tell_the_default_namespace_from_the_chatbots_id(staff_client):
    from tests.conversations.test_admin import CHANGE_URL, form_data

    chatbot = ChatbotFactory(chatbot_id="shop")
    chatbot_flows_ensure(chatbot=chatbot)
    layout = {
        "metadata_text_field": "content",
        "metadata_title_field": "title",
        "metadata_source_field": "url",
        "embedding_model": "text-embedding-ada-002",
    }

    for typed, stored in [("__default__", ""), ("", None), ("legacy", "legacy")]:
        data = form_data(chatbot, pinecone_namespace=typed, **layout)
        response = staff_client.post(CHANGE_URL.format(chatbot.pk), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        chatbot.refresh_from_db()
        assert chatbot.pinecone_namespace == stored

    chatbot.pinecone_namespace = ""
    chatbot.save()
    page = staff_client.get(CHANGE_URL.format(chatbot.pk)).content.decode()
    assert 'name="pinecone_namespace" value="__default__"' in page
    assert chatbot.metadata_text_field == "content"

    data = form_data(chatbot, embedding_model="my-own-model")
    response = staff_client.post(CHANGE_URL.format(chatbot.pk), data)
    assert "The dimension of my-own-model is not known" in response.content.decode()
