"""The errors a job kind raises, and the ones the runner uses to stop a job."""


class JobError(Exception):
    """A job failed with a stable code; `transient` ones are retried with backoff."""

    def __init__(self, code: str, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.transient = transient


class JobCancelled(Exception):
    """Raised by `JobContext.progress` once the job has been cancelled: the job stops there."""


class JobLeaseLost(Exception):
    """Raised by `JobContext.progress` when another worker has taken the job over (this worker
    was presumed dead): the job stops without touching the row."""
