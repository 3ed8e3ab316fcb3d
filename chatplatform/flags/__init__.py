"""Feature flags with a stable percentage rollout, for requests and tasks alike.

from chatplatform import flags
flags.is_enabled("llm_router", subject=("chatbot", "nordvin"))
await flags.ais_enabled("llm_router", subject=("chatbot", "nordvin"))   # async code
"""

from typing import Any


def is_enabled(key: str, subject: tuple[str, Any] | None = None) -> bool:
    """Whether flag `key` is on for `subject` (kind, id); see `selectors.flag_is_enabled`."""
    from chatplatform.flags.selectors import flag_is_enabled

    return flag_is_enabled(key, subject)


async def ais_enabled(key: str, subject: tuple[str, Any] | None = None) -> bool:
    """`is_enabled` for async code: reads the database off the event loop when it must."""
    from chatplatform.flags.selectors import flag_ais_enabled

    return await flag_ais_enabled(key, subject)


def bucket(key: str, kind: str, subject_id: Any) -> float:
    """The subject's bucket for the flag, 0.00-99.99."""
    from chatplatform.flags.buckets import bucket as flag_bucket

    return flag_bucket(key, kind, subject_id)
