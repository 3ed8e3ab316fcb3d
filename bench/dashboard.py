"""Analytics at scale on PostgreSQL: 1,000,000 answers with their records over 30 days for 20
chatbots, then the daily rollups, each dashboard range and the drill-down through the API, and the
retention cleanup of a day's and of 30 days' worth. See bench/README.md, "bench/dashboard.py".

    .venv/bin/python bench/dashboard.py                      # the full run, 10-20 minutes
    .venv/bin/python bench/dashboard.py --answers 50000      # a quick look
    .venv/bin/python bench/dashboard.py --reuse              # time again on the loaded database
    .venv/bin/python bench/dashboard.py --reuse --skip-retention   # the API only
"""

import argparse
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOWS = [("default", 0.45), ("flow2", 0.3), ("flow3", 0.1), ("flow4", 0.05), ("apiflow", 0.1)]
STATUSES = [("completed", 0.93), ("stopped", 0.03), ("failed", 0.03), ("interrupted", 0.01)]
RESOLUTIONS = [("confirmed", 0.2), ("assumed", 0.45), ("unresolved", 0.15), ("open", 0.2)]
LOOKUPS = [("verified", 0.6), ("not_verified", 0.3), ("error", 0.05), ("too_many_attempts", 0.05)]
TOPICS = ["Levering", "Returnering", "Ordrestatus", "Produkter", "Betaling", "Vin", "Gaver", "Andet"]


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    x = rng.random()
    for value, weight in weighted:
        x -= weight
        if x <= 0:
            return value
    return weighted[-1][0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 0.5) * 1000, 1),
        "p95_ms": round(percentile(values, 0.95) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


# --- loading ---------------------------------------------------------------------------------


class Copier:
    """COPY rows given as dicts of attnames into a model's table; unnamed fields get their default."""

    def __init__(self, cursor, model):
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if not (f.primary_key and f.get_internal_type().endswith("AutoField"))
        ]
        columns = ", ".join(f'"{f.column}"' for f in self.fields)
        self.defaults = [f.get_default() for f in self.fields]
        self.json = [f.get_internal_type() == "JSONField" for f in self.fields]
        self.copy = cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN')
        self.writer = self.copy.__enter__()
        self.rows = 0

    def write(self, row: dict) -> None:
        values = []
        for f, default, is_json in zip(self.fields, self.defaults, self.json, strict=True):
            value = row.get(f.attname, default)
            values.append(json.dumps(value) if is_json else value)
        self.writer.write_row(values)
        self.rows += 1

    def close(self) -> None:
        self.copy.__exit__(None, None, None)


def load(answers: int, chatbots: int, days: int, seed: int) -> dict:
    from django.db import connection

    from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics
    from chatplatform.telemetry.models import CallRecord
    from conversations.models import ChatbotSettings, Conversation, Message
    from tracking.models import OrderLookup

    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=days)
    bots = [
        ChatbotSettings.objects.create(
            chatbot_id=f"bench-shop-{n:02d}", name=f"Bench shop {n}", topics=TOPICS
        )
        for n in range(chatbots)
    ]
    started = time.perf_counter()
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        models = {
            "conversations": Conversation,
            "messages": Message,
            "metrics": ProcessingMetrics,
            "insights": ConversationInsight,
            "ratings": AnswerRating,
            "lookups": OrderLookup,
            "calls": CallRecord,
        }
        # COPY streams one table at a time on a connection: write each table's rows in turn.
        plan = []
        made = 0
        while made < answers:
            bot = bots[rng.randrange(chatbots)]
            count = min(rng.choice([1, 1, 2, 3, 3, 4, 5, 5]), answers - made)
            at = start + timedelta(seconds=rng.uniform(0, days * 86400 - 600))
            plan.append((bot, at, count))
            made += count
        # In time order, as the chat appends them: a day's rows sit together on disk.
        plan.sort(key=lambda item: item[1])
        order = ["conversations", "messages", "metrics", "insights", "ratings", "lookups", "calls"]
        for name in order:
            copier = Copier(cursor, models[name])
            for n, (bot, at, count) in enumerate(plan):
                # One generator per conversation: every table's pass draws the same values.
                _write(name, copier, random.Random(seed * 1_000_003 + n), n, bot, at, count)
            copier.close()
            print(f"  {name}: {copier.rows:,} rows ({time.perf_counter() - started:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        # What autovacuum does after a load (it may be off on a test server): statistics, and the
        # visibility map that lets the dashboards count from their indexes alone.
        cursor.execute("VACUUM (ANALYZE)")
    return {"conversations": len(plan), "answers": answers, "load_s": round(time.perf_counter() - started, 1)}


def _write(name, copier, rng, n, bot, at, count) -> None:
    # Deterministic ids, so that every table's pass names the same rows.
    conversation_id = uuid.UUID(int=n)
    last = at + timedelta(seconds=40 * count)
    visitor = f"{bot.pk}-{rng.randrange(5000)}"
    score = rng.randint(1, 10) if rng.random() < 0.8 else None
    resolution = pick(rng, RESOLUTIONS)
    topic = rng.choice(TOPICS) if score is not None else ""
    if name == "conversations":
        copier.write(
            {
                "id": conversation_id,
                "chatbot_id": bot.pk,
                "token_hash": f"{n:064x}",
                "created_at": at,
                "updated_at": last,
            }
        )
    elif name == "insights":
        copier.write(
            {
                "conversation_id": conversation_id,
                "chatbot_id": bot.pk,
                "started_at": at,
                "last_message_at": last,
                "updated_at": last,
                "visitor": visitor,
                "questions": count,
                "answers": count,
                "topic": topic,
                "score": score,
                "score_reason": "bench" if score else "",
                "judged_by": "local" if score else "",
                "analysed_at": last if score else None,
                "resolution": resolution,
                "resolved_at": last if resolution in ("confirmed", "assumed") else None,
            }
        )
    for k in range(count):
        moment = at + timedelta(seconds=40 * k)
        question_id = uuid.UUID(int=(1 << 64) + n * 16 + 2 * k)
        answer_id = uuid.UUID(int=(1 << 64) + n * 16 + 2 * k + 1)
        flow = pick(rng, FLOWS)
        status = pick(rng, STATUSES)
        ttft = rng.lognormvariate(6.4, 0.45)
        rated = rng.random() < 0.1
        looked_up = flow == "apiflow" and rng.random() < 0.5
        tokens = rng.randint(30, 400)
        speed, not_found, up = rng.gauss(45, 8), rng.random() < 0.05, rng.random() < 0.7
        outcome, input_tokens = pick(rng, LOOKUPS), rng.randint(500, 3000)
        if name == "messages":
            copier.write(
                {
                    "id": question_id,
                    "conversation_id": conversation_id,
                    "role": "user",
                    "text": "Hvornår kommer min ordre?",
                    "created_at": moment,
                }
            )
            copier.write(
                {
                    "id": answer_id,
                    "conversation_id": conversation_id,
                    "role": "assistant",
                    "text": "Din ordre er afsendt og kommer i morgen.",
                    "status": status,
                    "reply_to_id": question_id,
                    "flow": flow,
                    "created_at": moment,
                }
            )
        elif name == "metrics":
            copier.write(
                {
                    "chatbot_id": bot.pk,
                    "conversation_id": conversation_id,
                    "answer_id": answer_id,
                    "flow": flow,
                    "provider": "openai",
                    "model": "gpt-4o-mini",
                    "route_ms": 2.0,
                    "retrieve_ms": 80.0,
                    "prompt_ms": 3.0,
                    "provider_ttft_ms": ttft - 90,
                    "stream_ms": tokens * 20.0,
                    "ttft_ms": ttft,
                    "total_ms": ttft + tokens * 20.0,
                    "output_tokens": tokens,
                    "tokens_per_s": speed,
                    "status": status,
                    "error_code": "provider_timeout" if status == "failed" else "",
                    "not_found": not_found,
                    "created_at": moment,
                }
            )
        elif name == "ratings" and rated:
            copier.write(
                {
                    "answer_id": answer_id,
                    "conversation_id": conversation_id,
                    "chatbot_id": bot.pk,
                    "value": "up" if up else "down",
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
        elif name == "lookups" and looked_up:
            copier.write(
                {
                    "chatbot_id": bot.pk,
                    "conversation_id": conversation_id,
                    "order_hint": "10**42",
                    "outcome": outcome,
                    "duration_ms": 150.0,
                    "created_at": moment,
                }
            )
        elif name == "calls":
            copier.write(
                {
                    "started_at": moment,
                    "day": moment.date(),
                    "recorded_at": moment,
                    "operation": "chat",
                    "provider": "openai",
                    "request_model": "gpt-4o-mini",
                    "input_tokens": input_tokens,
                    "output_tokens": tokens,
                    "duration_ms": ttft + tokens * 20.0,
                    "tenant_type": "chatbot",
                    "tenant_id": bot.chatbot_id,
                    "feature": "answer",
                }
            )


# --- timing ----------------------------------------------------------------------------------


def time_api(rounds: int) -> dict:
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from conversations.models import ChatbotSettings

    staff, _ = get_user_model().objects.get_or_create(username="bench-staff", defaults={"is_staff": True})
    client = APIClient()
    client.force_authenticate(staff)
    bots = list(
        ChatbotSettings.objects.filter(chatbot_id__startswith="bench-shop-").values_list(
            "chatbot_id", flat=True
        )
    )
    cases = {
        "dashboard 24h": ("/api/v1/analytics/dashboard/", {"range": "24h"}),
        "dashboard 7d": ("/api/v1/analytics/dashboard/", {"range": "7d"}),
        "dashboard 30d": ("/api/v1/analytics/dashboard/", {"range": "30d"}),
        "flows 30d": ("/api/v1/analytics/flows/", {"range": "30d"}),
        "drill-down 30d, page 1": ("/api/v1/analytics/conversations/", {"range": "30d"}),
        "drill-down 30d, errors": ("/api/v1/analytics/conversations/", {"range": "30d", "error": "true"}),
        "drill-down 7d, topic": ("/api/v1/analytics/conversations/", {"range": "7d", "topic": "Levering"}),
        "drill-down 30d, score 1-3, page 5": (
            "/api/v1/analytics/conversations/",
            {"range": "30d", "score_max": "3", "page": "5"},
        ),
    }
    results = {}
    for name, (url, params) in cases.items():
        client.get(url, {"chatbot": bots[0], **params})  # warm the connection and imports
        durations = []
        for _ in range(rounds):
            for bot in bots:
                began = time.perf_counter()
                response = client.get(url, {"chatbot": bot, **params})
                durations.append(time.perf_counter() - began)
                assert response.status_code == 200, response.content[:300]
        results[name] = summary(durations)
        print(f"  {name}: {results[name]}", flush=True)
    began = time.perf_counter()
    response = client.get(
        "/api/v1/analytics/conversations/", {"chatbot": bots[0], "range": "30d", "format": "csv"}
    )
    lines = sum(chunk.count(b"\n") for chunk in response.streaming_content) - 1
    results["csv export 30d, one chatbot"] = {"rows": lines, "seconds": round(time.perf_counter() - began, 2)}
    print(f"  csv: {results['csv export 30d, one chatbot']}", flush=True)
    return results


def retention_child(older_than: str) -> None:
    """Run in a copy of the loaded database: the cleanup with each batch's duration."""
    import django

    django.setup()
    from analytics.retention import analytics_cleanup
    from chatplatform.telemetry.aggregates import records_delete_older_than

    batches = []
    gaps = []  # time between batches: the stages' other queries (e.g. a final one finding nothing)
    cut = datetime.fromisoformat(older_than)
    began = last_end = time.perf_counter()
    last_stage = "start"

    def on_batch(batch) -> None:
        nonlocal last_end, last_stage
        now = time.perf_counter()
        gaps.append((now - batch.seconds - last_end, f"{last_stage} -> {batch.stage}"))
        batches.append(batch)
        last_end, last_stage = now, batch.stage

    deleted = analytics_cleanup(cut, on_batch=on_batch)
    analytics_s = time.perf_counter() - began
    gaps.append((time.perf_counter() - last_end, f"{last_stage} -> end"))
    between: dict[str, float] = {}
    for seconds, where in gaps:
        between[where] = between.get(where, 0.0) + seconds
    began = time.perf_counter()
    calls = records_delete_older_than(cut)
    telemetry_s = time.perf_counter() - began
    stages = {}
    for batch in batches:
        stage = stages.setdefault(batch.stage, {"batches": 0, "rows": 0, "seconds": []})
        stage["batches"] += 1
        stage["rows"] += batch.rows
        stage["seconds"].append(batch.seconds)
    print(
        json.dumps(
            {
                "deleted": deleted,
                "analytics_cleanup_s": round(analytics_s, 2),
                "batches": len(batches),
                "longest_batch_ms": round(max((b.seconds for b in batches), default=0) * 1000, 1),
                "batch_p50_ms": round(statistics.median([b.seconds for b in batches]) * 1000, 1)
                if batches
                else None,
                "stages": {
                    name: {
                        "batches": s["batches"],
                        "rows": s["rows"],
                        "seconds": round(sum(s["seconds"]), 2),
                        "longest_batch_ms": round(max(s["seconds"]) * 1000, 1),
                    }
                    for name, s in stages.items()
                },
                "telemetry_records": {"deleted": calls, "seconds": round(telemetry_s, 2)},
                "outside_batches_s": round(sum(seconds for seconds, _ in gaps), 2),
                "outside_batches_top": {
                    where: round(seconds, 2)
                    for where, seconds in sorted(between.items(), key=lambda i: -i[1])[:5]
                },
            }
        )
    )


def time_retention(postgres: str, database: str, older_than: datetime) -> dict:
    import psycopg

    copy = f"{database}_ret_{secrets.token_hex(3)}"
    with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
        # A template must have no sessions: this process's own (other threads') are the only ones.
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
        began = time.perf_counter()
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{database}"')
        print(f"  copied the database in {time.perf_counter() - began:.0f} s", flush=True)
    try:
        env = {**os.environ, "DATABASE_URL": f"{postgres}/{copy}"}
        output = subprocess.run(  # noqa: S603  (this very script, in a copy of its database)
            [sys.executable, __file__, "--retention-child", older_than.isoformat()],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(output.strip().splitlines()[-1])
    finally:
        with psycopg.connect(f"{postgres}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--chatbots", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="requests per chatbot and case")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="chat_bench_dash")
    parser.add_argument("--reuse", action="store_true", help="time again on the loaded database")
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--skip-retention", action="store_true", help="time the API only")
    parser.add_argument("--skip-api", action="store_true", help="time the retention only")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--retention-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatplatform.settings")
    if args.retention_child:
        retention_child(args.retention_child)
        return

    import psycopg

    os.environ.update(
        DATABASE_URL=f"{args.postgres}/{args.database}",
        DJANGO_ALLOWED_HOSTS="testserver",
        LOG_LEVEL="WARNING",
        # The first day of data is older than 30 days by the time the rollups run.
        ANALYTICS_RETENTION_DAYS=str(args.days + 1),
    )
    os.environ.pop("REDIS_URL", None)
    report: dict = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "args": vars(args)}
    if not args.reuse:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=os.environ)
    import django

    django.setup()
    from django.db import connection, connections

    from analytics.rollups import analytics_rollup
    from chatplatform.telemetry.aggregates import telemetry_aggregate

    if not args.reuse:
        print(
            f"Loading {args.answers:,} answers for {args.chatbots} chatbots over {args.days} days", flush=True
        )
        report["load"] = load(args.answers, args.chatbots, args.days, args.seed)
        today = datetime.now(UTC).date()
        all_days = [today - timedelta(days=n) for n in range(args.days + 1)]
        began = time.perf_counter()
        telemetry_aggregate(days=all_days)
        report["telemetry_aggregate_s"] = round(time.perf_counter() - began, 1)
        began = time.perf_counter()
        result = analytics_rollup(day_from=all_days[-1], day_to=today)
        report["rollup"] = {
            "days": len(result["days"]),
            "rows": result["rows"],
            "seconds": round(time.perf_counter() - began, 1),
        }
        print(f"  rollups: {report['rollup']}", flush=True)
    began = time.perf_counter()
    refresh = analytics_rollup()
    report["hourly_refresh"] = {
        "days": len(refresh["days"]),
        "seconds": round(time.perf_counter() - began, 1),
    }
    print(f"  hourly refresh: {report['hourly_refresh']}", flush=True)
    if not args.skip_api:
        print("Timing the API", flush=True)
        report["api"] = time_api(args.rounds)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(created_at) FROM conversation_processing_metrics")
        oldest = cursor.fetchone()[0]
    connections.close_all()
    if not args.skip_retention:
        print("Retention: a day's worth", flush=True)
        report["retention_day"] = time_retention(args.postgres, args.database, oldest + timedelta(days=1))
        print(f"  {report['retention_day']}", flush=True)
        print("Retention: 30 days' worth", flush=True)
        report["retention_30_days"] = time_retention(
            args.postgres, args.database, datetime.now(UTC) + timedelta(minutes=1)
        )
        print(f"  {report['retention_30_days']}", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    path = out / f"dashboard-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"Report: {path}")
    if args.drop:
        with psycopg.connect(f"{args.postgres}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
