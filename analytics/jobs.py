"""Analytics job kinds, found by the jobs app's autodiscovery of `jobs` modules; each kind lives in
the module named for what it does."""

from analytics import (
    analysis_jobs,  # noqa: F401  (registers conversation_analysis, conversation_insights_refresh)
    rollup_jobs,  # noqa: F401  (registers analytics_rollup)
)
