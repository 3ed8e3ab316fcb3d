"""xAPI (Experience API 1.0.3) statements from the tutor's interaction log.

Pure: `statements_for(event, base_url)` turns one logged event into statements (a quiz attempt
gives one for the quiz and one per answered question). Activity ids are IRIs under the site's
base URL; the actor is an account (the learner's id at the site), never a name or an e-mail.
Statement ids are UUIDs derived from the log row, so that exporting twice yields the same ids
and a learning record store keeps one copy.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

VERSION = "1.0.3"
_ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
_ADL_ACTIVITIES = "http://adlnet.gov/expapi/activities/"
# A fixed namespace for the statement ids of this platform's log rows.
_NAMESPACE = uuid.UUID("6f1d9a52-3c4b-5e1f-9a7d-2b8c4e6f0a13")

VERBS = {
    name: {"id": _ADL_VERBS + name, "display": {"en-US": name}}
    for name in (
        "registered",
        "imported",
        "experienced",
        "launched",
        "completed",
        "answered",
        "commented",
        "exited",
        "interacted",
    )
}
# The log's kinds and the verb each becomes; an unlisted kind is "interacted".
KIND_VERBS = {
    "session_created": "registered",
    "session_archived": "exited",
    "document_uploaded": "imported",
    "analysis_generated": "launched",
    "lesson_generated": "launched",
    "quiz_generated": "launched",
    "analysis_viewed": "experienced",
    "lesson_viewed": "experienced",
    "quiz_viewed": "experienced",
    "quiz_attempted": "completed",
    "summary_submitted": "commented",
}
# Question types and the xAPI interaction type that records their answers.
INTERACTION_TYPES = {
    "multiple_choice": "choice",
    "true_false": "true-false",
    "short_answer": "fill-in",
    "fill_in_blank": "fill-in",
}


@dataclass(frozen=True)
class Event:
    """One interaction-log row, as the export needs it."""

    id: int
    learner_id: int
    kind: str
    created_at: datetime
    session_id: int | None = None
    session_title: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def iso_duration(seconds: float) -> str:
    """ISO 8601 duration, e.g. 75.5 -> "PT1M15.5S" (xAPI's result.duration)."""
    seconds = max(0.0, round(float(seconds), 2))
    minutes, rest = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if rest or text == "PT":
        text += f"{rest:g}S"
    return text


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def actor(learner_id: int, base_url: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": str(learner_id)}}


def activity(iri: str, activity_type: str, name: str, **definition: Any) -> dict:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": {
            "name": {"en-US": name},
            "type": _ADL_ACTIVITIES + activity_type,
            **definition,
        },
    }


def statement(
    *,
    statement_id: uuid.UUID,
    learner_id: int,
    base_url: str,
    verb: str,
    obj: dict,
    moment: datetime,
    result: dict | None = None,
    parent: dict | None = None,
) -> dict:
    """One statement: actor, verb, object, and result and context when there are any."""
    built: dict[str, Any] = {
        "id": str(statement_id),
        "actor": actor(learner_id, base_url),
        "verb": VERBS[verb],
        "object": obj,
        "timestamp": timestamp(moment),
        "version": VERSION,
    }
    if result:
        built["result"] = result
    context: dict[str, Any] = {"platform": "chatplatform tutor", "language": "en-US"}
    if parent is not None:
        context["contextActivities"] = {"parent": [{"objectType": "Activity", "id": parent["id"]}]}
    built["context"] = context
    return built


def _score(raw: float, maximum: float) -> dict:
    scaled = 0.0 if maximum <= 0 else raw / maximum
    return {"scaled": round(scaled, 4), "raw": raw, "min": 0, "max": maximum}


def _session_iri(base_url: str, event: Event) -> str:
    return f"{base_url}tutor/sessions/{event.session_id}"


def statements_for(event: Event, base_url: str) -> list[dict]:
    """The statements for one logged event; `base_url` ends with "/"."""
    verb = KIND_VERBS.get(event.kind, "interacted")
    data = event.data
    session_iri = _session_iri(base_url, event)
    session = activity(session_iri, "course", event.session_title or f"Study session {event.session_id}")
    parent = session if event.session_id is not None else None
    common = {"learner_id": event.learner_id, "base_url": base_url, "moment": event.created_at}
    first_id = uuid.uuid5(_NAMESPACE, f"log:{event.id}")

    if event.kind == "quiz_attempted" and "quiz" in data:
        return _attempt_statements(event, first_id, session, common)
    if event.kind == "summary_submitted" and "summary" in data:
        obj = activity(f"{session_iri}/summaries/{data['summary']}", "performance", "Summary of the material")
        covered, missed = data.get("covered", []), data.get("missed", [])
        result = {"completion": True}
        if covered or missed:
            result["score"] = _score(len(covered), len(covered) + len(missed))
        result["extensions"] = {f"{base_url}xapi/extensions/missed-concepts": missed}
        return [statement(statement_id=first_id, verb=verb, obj=obj, result=result, parent=parent, **common)]
    obj = _content_object(event, session_iri)
    if obj is None:
        obj, parent = (session, None) if event.session_id is not None else (tutor_home(base_url), None)
    if event.kind not in KIND_VERBS:
        # The log's own kind says more than "interacted" alone.
        obj = {**obj, "definition": {**obj["definition"], "description": {"en-US": event.kind}}}
    return [statement(statement_id=first_id, verb=verb, obj=obj, parent=parent, **common)]


# The log's data key naming the object of a kind's prefix, its IRI segment, type and name.
_CONTENT = {
    "document": ("document", "documents", "file", "Document"),
    "analysis": ("analysis", "analyses", "module", "Analysis of the documents"),
    "lesson": ("lesson", "lessons", "lesson", "Lesson"),
    "quiz": ("quiz", "quizzes", "assessment", "Quiz"),
}


def _content_object(event: Event, session_iri: str) -> dict | None:
    """The document, analysis, lesson or quiz a kind like `lesson_viewed` is about."""
    spec = _CONTENT.get(event.kind.split("_", 1)[0])
    if spec is None or spec[0] not in event.data:
        return None
    key, segment, activity_type, name = spec
    ident = event.data[key]
    if key == "document" and event.data.get("filename"):
        name = str(event.data["filename"])
    elif key in ("quiz", "lesson"):
        name = f"{name} {ident}"
    return activity(f"{session_iri}/{segment}/{ident}", activity_type, name)


def tutor_home(base_url: str) -> dict:
    return activity(f"{base_url}tutor", "course", "Tutor")


def _attempt_statements(event: Event, first_id: uuid.UUID, session: dict, common: dict) -> list[dict]:
    data = event.data
    quiz = activity(f"{session['id']}/quizzes/{data['quiz']}", "assessment", f"Quiz {data['quiz']}")
    correct, total = int(data.get("correct", 0)), int(data.get("total", 0))
    result: dict[str, Any] = {"score": _score(correct, total), "completion": True}
    if data.get("time_taken_s") is not None:
        result["duration"] = iso_duration(data["time_taken_s"])
    statements = [
        statement(statement_id=first_id, verb="completed", obj=quiz, result=result, parent=session, **common)
    ]
    for answer in data.get("answers", []):
        question = activity(
            f"{quiz['id']}/questions/{answer['question']}",
            "cmi.interaction",
            f"Question {answer['question']}",
            interactionType=INTERACTION_TYPES.get(answer.get("type", ""), "other"),
        )
        statements.append(
            statement(
                statement_id=uuid.uuid5(_NAMESPACE, f"log:{event.id}:question:{answer['question']}"),
                verb="answered",
                obj=question,
                result={"success": bool(answer.get("correct")), "response": str(answer.get("given", ""))},
                parent=quiz,
                **common,
            )
        )
    return statements
