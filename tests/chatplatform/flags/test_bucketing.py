"""Flags: bucketing is stable and monotonic in the percentage."""

import subprocess
import sys
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chatplatform.flags.buckets import bucket, in_rollout

keys = st.from_regex(r"[a-z][a-z0-9_]{0,40}", fullmatch=True)
kinds = st.sampled_from(["chatbot", "learner", "visitor"])
subject_ids = st.one_of(st.text(min_size=1, max_size=60), st.integers(min_value=0, max_value=10**12))
percentages = st.integers(min_value=0, max_value=10000).map(lambda units: Decimal(units) / 100)


@given(key=keys, kind=kinds, subject_id=subject_ids, low=percentages, high=percentages)
def test_raising_the_percentage_only_adds_subjects(key, kind, subject_id, low, high):
    low, high = min(low, high), max(low, high)
    if in_rollout(key, kind, subject_id, low):
        assert in_rollout(key, kind, subject_id, high)


@given(key=keys, kind=kinds, subject_id=subject_ids, percentage=percentages)
def test_a_subject_is_in_exactly_when_its_bucket_is_below_the_percentage(key, kind, subject_id, percentage):
    assert 0 <= bucket(key, kind, subject_id) < 100
    assert bucket(key, kind, subject_id) == bucket(key, kind, subject_id)
    assert in_rollout(key, kind, subject_id, percentage) == (
        Decimal(str(bucket(key, kind, subject_id))) < percentage
    )


@given(key=keys, kind=kinds, subject_id=subject_ids)
def test_nobody_is_in_at_zero_and_everybody_at_a_hundred(key, kind, subject_id):
    assert not in_rollout(key, kind, subject_id, 0)
    assert in_rollout(key, kind, subject_id, 100)


@given(subject_id=st.integers(min_value=0, max_value=10**6))
def test_an_int_id_and_its_text_share_a_bucket(subject_id):
    assert bucket("llm_router", "learner", subject_id) == bucket("llm_router", "learner", str(subject_id))


def test_buckets_are_the_same_in_another_process_with_another_hash_seed():
    subjects = [("llm_router", "chatbot", "nordvin"), ("quiz_v2", "learner", "42"), ("x", "visitor", "é")]
    code = (
        "import sys, json; sys.path.insert(0, '.');"
        "from chatplatform.flags.buckets import bucket;"
        f"print(json.dumps([bucket(*s) for s in {subjects!r}]))"
    )
    other = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )

    assert other.stdout.strip() == str([bucket(*subject) for subject in subjects]).replace("'", '"')
    # Fixed by sha256: a change here would move every subject in or out of every rollout.
    assert bucket("llm_router", "chatbot", "nordvin") == 65.23


def test_the_share_of_subjects_in_follows_the_percentage():
    ids = range(20000)
    share = sum(in_rollout("llm_router", "chatbot", n, 25) for n in ids) / len(ids)

    assert 0.23 < share < 0.27
    # Another flag draws another, independent quarter.
    both = sum(
        in_rollout("llm_router", "chatbot", n, 25) and in_rollout("quiz_v2", "chatbot", n, 25) for n in ids
    )
    assert 0.04 < both / len(ids) < 0.085
