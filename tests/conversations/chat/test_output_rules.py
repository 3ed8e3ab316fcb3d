import pytest

from chatplatform.llm_tokens import count_tokens, trim_history
from conversations.chat.output_rules import OutputRules


def run(pieces: list[str], *, replace: bool = True) -> tuple[list[str], str]:
    rules = OutputRules(replace_exclamation_marks=replace)
    out = [rules.feed(piece) for piece in pieces]
    return out, "".join(out) + rules.flush()


@pytest.mark.parametrize(
    ("pieces", "expected"),
    [
        (["Hej!"], "Hej."),
        (["Hej", "!", "!", " Velkommen", "!"], "Hej. Velkommen."),
        (["Wow!!", "!", " ok"], "Wow. ok"),
        (["no marks"], "no marks"),
        (["end!", ""], "end."),
    ],
)
def test_runs_of_exclamation_marks_become_one_full_stop_across_tokens(pieces, expected):
    assert run(pieces)[1] == expected


def test_a_trailing_mark_is_held_back_until_the_next_token_shows_the_run_ended():
    out, _ = run(["Hej!", "!", " du"])

    assert out == ["Hej", "", ". du"]


def test_the_rules_change_nothing_when_switched_off():
    assert run(["Hej!", "!"], replace=False)[1] == "Hej!!"


def test_history_is_trimmed_to_the_token_budget_from_the_oldest_end():
    history = [
        {"role": "user", "content": "first question " * 20},
        {"role": "assistant", "content": "first answer " * 20},
        {"role": "user", "content": "second question"},
        {"role": "assistant", "content": "second answer"},
    ]

    kept = trim_history(history, budget=30)

    assert kept == history[2:]
    assert trim_history(history, budget=10_000) == history
    assert trim_history(history, budget=1) == []


def test_a_reply_is_never_kept_without_its_question():
    history = [
        {"role": "user", "content": "question " * 40},
        {"role": "assistant", "content": "answer"},
    ]

    assert trim_history(history, budget=20) == []


def test_tokens_are_counted_offline():
    assert count_tokens("Hvad koster fragt til Bornholm?") > 5
