"""Staff can read generated content and find flagged questions in admin."""

import pytest

from tests.tutor.content_sources import session_with_sample
from tutor.content.models import Analysis, Lesson, Question, Quiz
from tutor.content.services import analysis_generate, lesson_generate, quiz_generate

pytestmark = pytest.mark.django_db


def test_staff_read_every_kind_of_generated_content(staff_client, settings):
    settings.AI_PROVIDER = "local"
    session = session_with_sample("statistics.md")
    analysis_generate(session=session, learner=session.learner)
    lesson_generate(session=session, learner=session.learner)
    quiz = quiz_generate(
        session=session,
        learner=session.learner,
        num_questions=3,
        difficulty="hard",
        question_types=["short_answer"],
    )
    Question.objects.filter(quiz=quiz, position=1).update(flagged=True, flag_reason="too easy")

    for model, pk in (
        (Analysis, Analysis.objects.get().pk),
        (Lesson, Lesson.objects.get().pk),
        (Quiz, quiz.pk),
    ):
        name = model._meta.model_name
        assert staff_client.get(f"/admin/tutor_content/{name}/").status_code == 200
        assert staff_client.get(f"/admin/tutor_content/{name}/{pk}/change/").status_code == 200
    flagged = staff_client.get("/admin/tutor_content/question/", {"flagged__exact": "1"})
    assert flagged.status_code == 200
    assert "too easy" in flagged.content.decode()
