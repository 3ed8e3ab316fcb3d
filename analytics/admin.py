"""Found by the admin's autodiscovery; the analytics admin lives in modules named for what they
show (the records' admin is registered by AnalyticsConfig.ready(), see records_admin.py)."""

from analytics import dashboard_admin  # noqa: F401  (dashboards, chatbot link, waterfall)
