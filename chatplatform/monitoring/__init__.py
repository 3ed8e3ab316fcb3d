"""Health snapshots (the 5-minute `health_check` job and admin) and `/metrics` for Prometheus."""
