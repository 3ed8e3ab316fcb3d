"""Versioned runtime config: typed keys, validated on save, every change kept as a version.

    from chatplatform import runtime_config
    runtime_config.get("llm_prices")          # sync code: requests, tasks, commands
    await runtime_config.aget("llm_prices")   # async code (reads the database off the loop)

Values are shared by the whole process: treat them as read-only.
"""

from typing import Any


def get(key: str) -> Any:
    """The key's current value (its default when never set), as seen by this process: a change
    made in another process shows within `RUNTIME_CONFIG_RECHECK_SECONDS`."""
    from chatplatform.runtime_config.selectors import config_get

    return config_get(key)


async def aget(key: str) -> Any:
    """`get` for async code."""
    from chatplatform.runtime_config.selectors import config_aget

    return await config_aget(key)
