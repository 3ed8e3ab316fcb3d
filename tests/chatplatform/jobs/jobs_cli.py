"""Drives a platform that real workers serve, from a subprocess (the tests' own database is
another one): `python -m tests.chatplatform.jobs.jobs_cli COMMAND [JSON]`."""

import json
import sys
import time

import django


def main(command: str, argument: str = "") -> None:
    django.setup()
    from chatplatform.jobs.models import Job
    from chatplatform.jobs.services import job_cancel, job_create, jobs_sweep
    from tests.chatplatform.jobs import probe_kinds

    if command == "setup":
        probe_kinds.effect_table_create()
    elif command == "create":
        ids = [
            job_create(
                spec["kind"],
                spec.get("payload", {}),
                priority=spec.get("priority", 5),
                idempotency_key=spec.get("key"),
            ).pk
            for spec in json.loads(argument)
        ]
        print(json.dumps(ids))
    elif command == "cancel":
        job_cancel(job=Job.objects.get(pk=int(argument)))
    elif command == "sweep-loop":
        # Plays beat's sweeper, every `argument` seconds instead of every minute.
        while True:
            jobs_sweep()
            time.sleep(float(argument))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(*sys.argv[1:])
