"""Figures worked out when Prometheus scrapes, from the jobs table and the broker, rather than
counted as they happen: they are the same whichever process is asked."""

import logging
from collections.abc import Iterator

from django.apps import apps
from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from chatplatform.monitoring import probes

logger = logging.getLogger(__name__)


class PlatformCollector(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        jobs = GaugeMetricFamily(
            "chatplatform_jobs", "Background jobs by kind and status, now.", labels=["kind", "status"]
        )
        for kind, status, count in _job_counts():
            jobs.add_metric([kind, status], count)
        yield jobs
        depth = GaugeMetricFamily(
            "chatplatform_queue_depth", "Messages waiting in each Celery queue, now.", labels=["queue"]
        )
        for queue, count in probes.queue_depths().items():
            if count is not None:
                depth.add_metric([queue], count)
        yield depth


def _job_counts() -> list[tuple[str, str, int]]:
    try:
        job_model = apps.get_model("jobs", "Job")
    except LookupError:
        return []  # the jobs app is not installed
    try:
        rows = job_model.objects.values_list("kind", "status").annotate(count=Count("pk")).order_by()
        return [(str(kind), str(status), count) for kind, status, count in rows]
    except Exception as exc:
        logger.warning("Could not count the jobs: %s", exc.__class__.__name__)
        return []
