"""Background jobs: a job row is the source of truth, Celery messages only wake workers up.

    from chatplatform.jobs.registry import job_kind, JobContext
    from chatplatform.jobs.services import job_create

See docs/operations.md, "Background jobs".
"""
