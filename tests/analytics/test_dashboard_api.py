"""The dashboard API: every figure equals its recomputation from the raw rows, each figure's
drill-down lists the conversations behind it, access is staff or the chatbot's own key, and bad
parameters are 400s with stable codes."""

import csv
import io
import random
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from analytics.rollups import analytics_rollup
from chatplatform.telemetry.aggregates import telemetry_aggregate
from conversations.services import chatbot_api_key_create
from tests.analytics import dashboard_factories as make
from tests.analytics import recompute
from tests.chatplatform.telemetry.factories import call_record
from tests.conversations.factories import ChatbotFactory

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/analytics/dashboard/"
FLOWS = "/api/v1/analytics/flows/"
CONVERSATIONS = "/api/v1/analytics/conversations/"
# The telemetry's daily aggregates round each group's cost to a millionth of a dollar.
COST_TOLERANCE = 1e-4
PRICES = {"gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")), "gpt-4o": (Decimal("2.50"), Decimal("10.00"))}


def _midnight(days_ago: int) -> datetime:
    return datetime.combine(timezone.now().date() - timedelta(days=days_ago), time.min, tzinfo=UTC)


def _fill(bot, seed: int) -> None:
    """Conversations, answers, ratings, lookups and calls over 10 days up to a minute ago."""
    rng = random.Random(seed)  # noqa: S311  (reproducible test data)
    now = timezone.now()
    moments = [now - timedelta(minutes=1), now - timedelta(hours=23), now - timedelta(hours=30)]
    moments += [
        _midnight(days) + timedelta(hours=rng.uniform(1, 22)) for days in range(1, 10) for _ in range(2)
    ]
    for n, at in enumerate(moments):
        convo = make.conversation(
            bot,
            at,
            visitor=rng.choice(["", "v1", "v2", f"v{n}"]),
            topic=rng.choice(["Levering", "Returnering", ""]),
            score=rng.choice([None, 2, 6, 9]),
            resolution=rng.choice(["open", "confirmed", "assumed", "unresolved"]),
        )
        for k in range(rng.randint(1, 3)):
            reply = make.answer(
                convo,
                min(at + timedelta(seconds=k), now - timedelta(seconds=30)),
                flow=rng.choice(["default", "flow2", "apiflow"]),
                status=rng.choice(["completed", "completed", "stopped", "failed"]),
                ttft_ms=rng.choice([None, rng.uniform(100, 3000)]),
                tokens_per_s=rng.choice([None, rng.uniform(10, 80)]),
                output_tokens=rng.randint(1, 300),
                not_found=rng.random() < 0.25,
            )
            if rng.random() < 0.5:
                make.rating(reply, rng.choice(["up", "down"]), at)
        if rng.random() < 0.5:
            make.order_lookup(bot, rng.choice(["verified", "not_verified", "error"]), at, convo)
        for model in ("gpt-4o-mini", "gpt-4o"):
            call_record(
                at=at,
                tenant_id=bot.chatbot_id,
                request_model=model,
                feature=rng.choice(["answer", "routing"]),
                input_tokens=rng.randint(100, 5000),
                output_tokens=rng.randint(10, 500),
            )


@pytest.fixture
def shop():
    bot, other = ChatbotFactory(chatbot_id="nordvin"), ChatbotFactory(chatbot_id="other-shop")
    _fill(bot, seed=11)
    _fill(other, seed=12)
    days = [(_midnight(n)).date() for n in range(1, 12)]
    analytics_rollup(day_from=days[-1], day_to=timezone.now().date())
    telemetry_aggregate(days=days)
    return bot


def _cost(bot, start, end) -> float:
    from chatplatform.telemetry.models import CallRecord

    total = Decimal(0)
    for record in CallRecord.objects.filter(
        tenant_id=bot.chatbot_id, tenant_type="chatbot", started_at__gte=start, started_at__lt=end
    ):
        price_in, price_out = PRICES[record.request_model]
        total += (price_in * record.input_tokens + price_out * record.output_tokens) / Decimal(1_000_000)
    return float(total)


def _usage(bot, start, end) -> dict:
    from chatplatform.telemetry.models import CallRecord

    usage: dict = {}
    for record in CallRecord.objects.filter(
        tenant_id=bot.chatbot_id, tenant_type="chatbot", started_at__gte=start, started_at__lt=end
    ):
        calls, tokens_in, tokens_out = usage.get((record.request_model, record.feature), (0, 0, 0))
        usage[(record.request_model, record.feature)] = (
            calls + 1,
            tokens_in + record.input_tokens,
            tokens_out + record.output_tokens,
        )
    return usage


def _values(body: dict) -> dict:
    """The dashboard's figures named as the recomputation names them."""

    def v(name):
        return body[name]["value"]

    return {
        "answers": v("answers"),
        "conversations": v("conversations"),
        "messages": v("messages"),
        "questions": v("questions"),
        "unique_visitors": v("unique_visitors"),
        "ttft_p50_ms": v("ttft_p50_ms"),
        "ttft_p95_ms": v("ttft_p95_ms"),
        "tokens_per_s": v("tokens_per_s"),
        "errors": v("errors"),
        "error_rate": v("error_rate"),
        "stopped_answers": v("stopped_answers"),
        "not_found_answers": v("not_found_answers"),
        "output_tokens": v("output_tokens"),
        "average_score": v("average_score"),
        "ttft_mean_ms": v("ttft_mean_ms"),
        "scores": [s["conversations"] for s in body["scores"]],
        "topics": {t["topic"]: t["conversations"] for t in body["topics"]},
        "resolution": {name: figure["value"] for name, figure in body["resolution"].items()},
        "ratings": {name: figure["value"] for name, figure in body["ratings"].items()},
        "order_lookups": {name: figure["value"] for name, figure in body["order_lookups"].items()},
        "flows": {
            row["flow"]: {
                key: row[key]
                for key in (
                    "answers",
                    "ttft_p50_ms",
                    "ttft_p95_ms",
                    "tokens_per_s",
                    "errors",
                    "average_score",
                )
            }
            for row in body["flows"]
        },
    }


def _rounded(expected: dict) -> dict:
    digits = {"tokens_per_s": 2, "average_score": 2, "error_rate": 4, "ttft_mean_ms": 2}
    return {
        key: _rounded(value)
        if isinstance(value, dict)
        else (round(value, digits[key]) if key in digits and value is not None else value)
        for key, value in expected.items()
    }


WINDOWS = [
    ({"range": "24h"}, lambda end: end - timedelta(hours=24)),
    ({"range": "7d"}, lambda end: _midnight(6)),
    ({"range": "30d"}, lambda end: _midnight(29)),
    ({"from": 8, "to": 2}, lambda end: _midnight(8)),
]


def test_every_dashboard_figure_equals_its_recomputation_from_raw_rows(staff_client, shop):
    for params, start_of in WINDOWS:
        params = {k: _midnight(v).date().isoformat() if isinstance(v, int) else v for k, v in params.items()}

        response = staff_client.get(DASHBOARD, {"chatbot": "nordvin", **params})

        assert response.status_code == 200, response.content
        body = response.json()
        start = datetime.fromisoformat(body["window"]["start"])
        end = datetime.fromisoformat(body["window"]["end"])
        assert start == start_of(end), params
        if "to" in params:
            assert end == _midnight(1)
        expected = _rounded(recompute.figures(shop, start, end))
        assert _values(body) == expected, params
        assert body["answers"]["value"] > 0
        cost = _cost(shop, start, end)
        assert body["cost_usd"]["value"] == pytest.approx(cost, abs=COST_TOLERANCE), params
        resolved = expected["resolution"]["confirmed"] + expected["resolution"]["assumed"]
        assert body["cost_per_resolved_conversation_usd"]["value"] == pytest.approx(
            cost / resolved, abs=COST_TOLERANCE
        )
        assert {
            (g["model"], g["feature"]): (g["calls"], g["input_tokens"], g["output_tokens"])
            for g in body["token_usage"]
        } == _usage(shop, start, end)
        for point in body["series"]:
            day = recompute.figures(
                shop, datetime.fromisoformat(point["from"]), datetime.fromisoformat(point["to"])
            )
            assert point["answers"] == day["answers"], point
            assert point["conversations"] == day["conversations"], point
            assert point["errors"] == day["errors"], point
            assert (point["ttft_p50_ms"], point["ttft_p95_ms"]) == (day["ttft_p50_ms"], day["ttft_p95_ms"]), (
                point
            )
            assert point["average_score"] == _rounded(day)["average_score"], point
            assert point["cost_usd"] == pytest.approx(
                _cost(shop, datetime.fromisoformat(point["from"]), datetime.fromisoformat(point["to"])),
                abs=COST_TOLERANCE,
            )


def test_the_flows_endpoint_gives_the_dashboards_table(staff_client, shop):
    dashboard = staff_client.get(DASHBOARD, {"chatbot": "nordvin", "range": "30d"}).json()

    flows = staff_client.get(FLOWS, {"chatbot": "nordvin", "range": "30d"}).json()

    assert flows["flows"] == dashboard["flows"]
    assert {row["flow"] for row in flows["flows"]} == {"default", "flow2", "apiflow"}


def _drill(client, url: str) -> dict:
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    response = client.get(urlsplit(url).path, {**query, "page_size": 200})
    assert response.status_code == 200, response.content
    return response.json()


def test_each_figure_drills_down_to_the_conversations_behind_it(staff_client, shop):
    body = staff_client.get(DASHBOARD, {"chatbot": "nordvin", "range": "7d"}).json()
    start = datetime.fromisoformat(body["window"]["start"])
    end = datetime.fromisoformat(body["window"]["end"])
    from analytics.models import AnswerRating, ConversationInsight, ProcessingMetrics

    started = ConversationInsight.objects.filter(chatbot=shop, started_at__gte=start, started_at__lt=end)
    answers = ProcessingMetrics.objects.filter(chatbot=shop, created_at__gte=start, created_at__lt=end)

    def ids(queryset) -> set[str]:
        return {str(i) for i in queryset.values_list("conversation_id", flat=True)}

    def listed(url) -> set[str]:
        return {row["id"] for row in _drill(staff_client, url)["results"]}

    assert listed(body["conversations"]["drilldown"]) == ids(started)
    for topic in body["topics"]:
        assert len(listed(topic["drilldown"])) == topic["conversations"]
    for name, figure in body["resolution"].items():
        assert listed(figure["drilldown"]) == ids(started.filter(resolution=name))
    assert listed(body["errors"]["drilldown"]) == ids(answers.filter(status__in=["failed", "interrupted"]))
    assert listed(body["stopped_answers"]["drilldown"]) == ids(answers.filter(status="stopped"))
    assert listed(body["not_found_answers"]["drilldown"]) == ids(answers.filter(not_found=True))
    assert listed(body["average_score"]["drilldown"]) == ids(started.exclude(score=None))
    for row in body["flows"]:
        assert listed(row["drilldown"]) == ids(answers.filter(flow=row["flow"]))
    ratings = AnswerRating.objects.filter(chatbot=shop, created_at__gte=start, created_at__lt=end)
    assert listed(body["ratings"]["down"]["drilldown"]) == ids(ratings.filter(value="down"))
    resolved = started.filter(resolution__in=["confirmed", "assumed"])
    assert listed(body["cost_per_resolved_conversation_usd"]["drilldown"]) == ids(resolved)


def test_a_drill_down_page_carries_topic_score_resolution_and_metrics(staff_client, shop):
    body = staff_client.get(CONVERSATIONS, {"chatbot": "nordvin", "range": "30d", "page_size": 5}).json()

    assert body["count"] > 5
    assert len(body["results"]) == 5
    first = body["results"][0]
    assert {"topic", "score", "resolution", "metrics"} <= set(first)
    assert first["metrics"]["answers"] >= 1
    assert [row["started_at"] for row in body["results"]] == sorted(
        (row["started_at"] for row in body["results"]), reverse=True
    )


def test_the_csv_export_streams_every_conversation_of_the_filter(staff_client, shop):
    from analytics.models import ConversationInsight

    ConversationInsight.objects.filter(chatbot=shop).update(score_reason="=HYPERLINK(1)")

    response = staff_client.get(CONVERSATIONS, {"chatbot": "nordvin", "range": "30d", "format": "csv"})

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    count = staff_client.get(CONVERSATIONS, {"chatbot": "nordvin", "range": "30d"}).json()["count"]
    assert len(rows) == count
    assert {"topic", "score", "resolution", "ttft_mean_ms", "output_tokens", "flows"} <= set(rows[0])
    assert rows[0]["score_reason"] == "'=HYPERLINK(1)"


def test_only_staff_or_the_chatbots_own_key_get_in(client, django_user_model):
    ChatbotFactory(chatbot_id="nordvin")
    ChatbotFactory(chatbot_id="other-shop")
    _, own = chatbot_api_key_create(chatbot_id="nordvin", name="ERP")
    _, foreign = chatbot_api_key_create(chatbot_id="other-shop", name="ERP")
    shopper = django_user_model.objects.create_user(username="shopper")
    boss = django_user_model.objects.create_user(username="boss", is_staff=True)
    for url in (DASHBOARD, FLOWS, CONVERSATIONS):
        client.logout()
        _access_checks(client, url, own, foreign, shopper, boss)


def _access_checks(client, url, own, foreign, shopper, boss):

    assert client.get(url, {"chatbot": "nordvin"}).status_code == 401
    assert client.get(url, {"chatbot": "nordvin"}, HTTP_AUTHORIZATION="Api-Key nope.nope").status_code == 401
    refused = client.get(url, {"chatbot": "nordvin"}, HTTP_AUTHORIZATION=f"Api-Key {foreign}")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert client.get(url, {"chatbot": "nordvin"}, HTTP_AUTHORIZATION=f"Api-Key {own}").status_code == 200
    # A key without ?chatbot= reads its own chatbot.
    assert client.get(url, HTTP_AUTHORIZATION=f"Api-Key {own}").status_code == 200
    client.force_login(shopper)
    assert client.get(url, {"chatbot": "nordvin"}).status_code == 403
    client.force_login(boss)
    assert client.get(url, {"chatbot": "other-shop"}).status_code == 200


BAD_PARAMETERS = [
    ({}, 400, "chatbot_required"),
    ({"chatbot": "ghost"}, 404, "chatbot_not_found"),
    ({"chatbot": "nordvin", "range": "1y"}, 400, "invalid_query"),
    ({"chatbot": "nordvin", "from": "2026-02-30"}, 400, "invalid_query"),
    ({"chatbot": "nordvin", "from": "2026-03-02", "to": "2026-03-01"}, 400, "date_range_reversed"),
    ({"chatbot": "nordvin", "from": "2020-01-01", "to": "2026-03-01"}, 400, "date_range_too_long"),
    ({"chatbot": "nordvin", "range": "7d", "from": "2026-03-01"}, 400, "range_conflict"),
    ({"chatbot": "nordvin", "ratng": "up"}, 400, "unknown_parameter"),
    ({"chatbot": "nordvin", "range": ["7d", "30d"]}, 400, "repeated_parameter"),
]


def test_bad_parameters_get_a_stable_code(staff_client):
    ChatbotFactory(chatbot_id="nordvin")

    for url in (DASHBOARD, FLOWS, CONVERSATIONS):
        for params, status, code in BAD_PARAMETERS:
            response = staff_client.get(url, params)

            assert response.status_code == status, (url, params, response.content)
            assert response.json()["error"]["code"] == code, (url, params)


BAD_FILTERS = [
    {"score_min": "11"},
    {"score_max": "x"},
    {"resolution": "maybe"},
    {"rating": "sideways"},
    {"error": "yes"},
    {"page": "0"},
    {"page_size": "1000"},
    {"format": "xml"},
    {"status": "exploded"},
    {"order_lookup": "lost"},
]


def test_bad_drill_down_filters_get_a_stable_code(staff_client):
    ChatbotFactory(chatbot_id="nordvin")

    for params in BAD_FILTERS:
        response = staff_client.get(CONVERSATIONS, {"chatbot": "nordvin", **params})

        assert response.status_code == 400, params
        body = response.json()["error"]
        assert body["code"] == "invalid_query"
        assert set(body["fields"]) == set(params)


async def test_under_asgi_the_export_is_read_a_chunk_at_a_time():
    from analytics.api import _streamed

    def lines():
        for n in range(1201):
            yield f"{n}\n"

    chunks = [chunk async for chunk in _streamed(lines(), chunk=500)]

    assert [chunk.count("\n") for chunk in chunks] == [500, 500, 201]
    assert "".join(chunks) == "".join(f"{n}\n" for n in range(1201))
