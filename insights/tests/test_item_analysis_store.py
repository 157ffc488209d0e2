"""Stored item analysis: refresh function, task, command, admin pages and action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from assessments.models import Answer, AssessmentAttempt
from assessments.tests.factories import AssessmentFactory, QuestionFactory
from insights.ml import irt
from insights.ml.irt import analyze_assessment, refresh_item_analysis
from insights.models import ItemAnalysisRun, PendingJob, QuestionItemAnalysis
from insights.tasks import refresh_item_analysis as refresh_task
from insights.tests.ml_data import T, build_answered_quiz

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
STORED_FIELDS = (
    "answers",
    "share_correct",
    "discrimination",
    "irt_difficulty",
    "irt_discrimination",
    "irt_model",
    "difficulty_predicted",
    "difficulty_basis",
    "distractors",
    "flags",
)


def _change(obj) -> str:
    return reverse(f"admin:assessments_{obj._meta.model_name}_change", args=[obj.pk])


def _rows(quiz) -> dict[int, QuestionItemAnalysis]:
    return {r.question_id: r for r in QuestionItemAnalysis.objects.filter(run__assessment=quiz)}


def test_stored_rows_equal_the_analysis_and_the_hand_computed_figures():
    quiz, qs, _ = build_answered_quiz()

    report = refresh_item_analysis(now=NOW)

    assert report.analysed == [quiz.pk] and report.failed == {}
    run = ItemAnalysisRun.objects.get(assessment=quiz)
    # 40 learners x 5 questions, plus the 5 learners (35..39) who answered question 6.
    assert (run.answers, run.computed_at) == (205, NOW)
    rows = _rows(quiz)
    for item in analyze_assessment(assessment=quiz):
        stored = rows[item.question_id]
        assert {f: getattr(stored, f) for f in STORED_FIELDS} == {
            f: getattr(item, f) for f in STORED_FIELDS
        }
    # Learner j is right on q1 from j = 10; rest score = share right on the others answered
    # (q2 from j = 20, q3 from 30, q4 below 20, q5 always, q6 for 35..39 who all pass).
    j = np.arange(40)
    right = [(j >= 20), (j >= 30), (j < 20), np.ones(40, bool), (j >= 35)]
    rest = np.sum(right, axis=0) / np.where(j >= 35, 5, 4)
    expected_r = np.corrcoef((j >= 10).astype(float), rest)[0, 1]
    assert [rows[q.id].share_correct for q in qs] == [0.75, 0.5, 0.25, 0.5, 1.0, 1.0]
    assert rows[qs[0].id].discrimination == pytest.approx(expected_r)
    assert rows[qs[0].id].flags == []
    # The reversed answer key: the broken question is flagged.
    assert rows[qs[3].id].discrimination < 0
    assert rows[qs[3].id].flags[0].startswith("negative discrimination (-")
    # Everyone is right on q5, so neither of its two wrong choices is ever picked.
    wrong = qs[4].choices.filter(is_correct=False).order_by("order", "pk")
    assert rows[qs[4].id].flags == [
        "almost everyone answers correctly (100%)",
        *(f"distractor nobody picks: “{c.text}”" for c in wrong),
    ]
    assert "distractor nobody picks: “Nobody falls for this”" in rows[qs[4].id].flags
    assert [rows[q.id].irt_model for q in qs] == ["2lc", "2lc", "2lc", "2lc", "2lc", ""]
    assert rows[qs[5].id].difficulty_predicted
    assert rows[qs[5].id].difficulty_basis == (
        "predicted from 3 fitted beginner question(s) on Algebra"
    )


def test_rerunning_replaces_the_analysis_instead_of_adding_one():
    quiz, qs, _ = build_answered_quiz()
    refresh_item_analysis(now=NOW)
    first_ids = set(QuestionItemAnalysis.objects.values_list("pk", flat=True))
    late = User.objects.create(email="late@example.com", password="!")
    attempt = AssessmentAttempt.objects.create(
        learner=late, assessment=quiz, started_at=T, submitted_at=T + timedelta(minutes=5)
    )
    Answer.objects.create(
        attempt=attempt, question=qs[2], response={}, is_correct=True, answered_at=T
    )

    refresh_item_analysis(assessment_ids=[quiz.pk], now=NOW + timedelta(days=1))
    refresh_item_analysis(assessment_ids=[quiz.pk], now=NOW + timedelta(days=1))

    run = ItemAnalysisRun.objects.get()
    assert (run.answers, run.computed_at) == (206, NOW + timedelta(days=1))
    rows = _rows(quiz)
    assert len(rows) == QuestionItemAnalysis.objects.count() == 6
    assert not first_ids & {r.pk for r in rows.values()}
    assert (rows[qs[2].id].answers, rows[qs[2].id].share_correct) == (41, 11 / 41)


def test_refresh_only_touches_the_assessments_asked_for(django_assert_max_num_queries):
    quiz, _, _ = build_answered_quiz()
    other = QuestionFactory().assessment
    AssessmentFactory()  # no questions: nothing to analyse

    # the assessments; then per assessment 3 reads (questions, choices, answers), one per
    # skill not fitted yet (its answers) and the write: savepoint, run upsert, live
    # questions, delete, insert, release
    with django_assert_max_num_queries(1 + 3 + 1 + 6):
        report = refresh_item_analysis(assessment_ids=[other.pk], now=NOW)

    assert report.analysed == [other.pk]
    assert list(ItemAnalysisRun.objects.values_list("assessment_id", "answers")) == [(other.pk, 0)]
    assert refresh_item_analysis(now=NOW).analysed == sorted([quiz.pk, other.pk])


def test_nightly_task_analyses_every_assessment():
    quiz, _, _ = build_answered_quiz()
    result = refresh_task.apply(kwargs={"now": NOW.isoformat()}).result
    assert result == {"analysed": 1, "failed": 0}
    assert ItemAnalysisRun.objects.get(assessment=quiz).computed_at == NOW


def test_command_reports_progress_and_rejects_unknown_ids():
    quiz, _, _ = build_answered_quiz()
    out = StringIO()
    call_command("analyze_items", "--assessment", str(quiz.pk), stdout=out)
    assert out.getvalue().splitlines() == [
        f"  {quiz.pk} {quiz}: 205 answers",
        "Analysed 1 assessment(s), 0 failed.",
    ]
    with pytest.raises(CommandError, match=f"No assessment with id {quiz.pk + 1000}"):
        call_command("analyze_items", "--assessment", str(quiz.pk + 1000), stdout=StringIO())
    with pytest.raises(CommandError, match="one of the arguments --assessment --all"):
        call_command("analyze_items", stdout=StringIO())
    call_command("analyze_items", "--all", stdout=StringIO())
    assert ItemAnalysisRun.objects.count() == 1


def test_pages_show_not_analysed_yet_then_the_stored_analysis(client, instructor, monkeypatch):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    client.force_login(instructor)
    assert "Not analysed yet" in client.get(_change(quiz)).content.decode()
    assert "Not analysed yet" in client.get(_change(qs[0])).content.decode()

    refresh_item_analysis(now=NOW)

    def no_fitting(*args, **kwargs):
        raise AssertionError("item analysis fitted inside a web request")

    monkeypatch.setattr(irt, "fit_irt", no_fitting)
    monkeypatch.setattr(irt, "analyze_assessment", no_fitting)
    page = client.get(_change(quiz)).content.decode()
    assert "Based on 205 answers, computed 2026-11-24 03:00 UTC." in page
    assert "negative discrimination" in page
    assert "distractor nobody picks: “Nobody falls for this”" in page
    assert "(predicted)" in page
    question_page = client.get(_change(qs[0])).content.decode()
    assert "Based on 40 answers" not in question_page  # the run's total, not the question's
    assert "Based on 205 answers" in question_page
    assert "<td>75%</td>" in question_page
    assert "negative discrimination" not in question_page


def _change_page_queries(client, assessment) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(_change(assessment)).status_code == 200
    return len(queries)


def test_change_page_queries_do_not_grow_with_answers(
    client, instructor, django_assert_max_num_queries
):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    # The same six questions, answered by one learner instead of forty.
    small = AssessmentFactory(owner=instructor)
    for q in qs:
        QuestionFactory(assessment=small, skill=q.skill, order=q.order)
    learner = User.objects.create(email="solo@example.com", password="!")
    attempt = AssessmentAttempt.objects.create(
        learner=learner, assessment=small, started_at=T, submitted_at=T
    )
    Answer.objects.bulk_create(
        Answer(attempt=attempt, question=q, response={}, is_correct=True, answered_at=T)
        for q in small.questions.all()
    )
    refresh_item_analysis(now=NOW)
    client.force_login(instructor)
    client.get(_change(small))  # warms per-process caches (content types)

    # session, user, assessment, owner, questions, 2 permission reads, course and lesson
    # choices, the stored run and its rows: 11; plus the skill autocomplete widget reads the
    # selected skill per question row (6).
    with django_assert_max_num_queries(11 + 6):
        many = _change_page_queries(client, quiz)
    assert many == _change_page_queries(client, small)
    assert many <= 20


def test_other_instructor_sees_no_analysis_and_cannot_queue_one(
    client, instructor, other_instructor
):
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    refresh_item_analysis(now=NOW)
    changelist = reverse("admin:assessments_assessment_changelist")
    action = {"action": "recompute_item_analysis", "_selected_action": [quiz.pk]}

    client.force_login(other_instructor)
    assert client.get(_change(quiz)).status_code == 404
    assert client.get(_change(qs[0])).status_code == 404
    response = client.post(changelist, action, follow=True)
    assert "No assessments selected." in response.content.decode()
    assert not PendingJob.objects.exists()

    client.force_login(instructor)
    response = client.post(changelist, action, follow=True)
    assert "Item analysis of 1 assessment(s) queued" in response.content.decode()
    job = PendingJob.objects.get()
    assert (job.task_name, job.kwargs) == (
        "insights.refresh_item_analysis",
        {"assessment_ids": [quiz.pk]},
    )


def test_teach_page_words_each_flag_once_and_renders_markdown_prompts(
    client, instructor, other_instructor
):
    """From a real analysis: the reversed key is flagged with its fix said once, and
    prompts and choices written in Markdown show as code, not backticks."""
    quiz, qs, _ = build_answered_quiz(owner=instructor)
    qs[3].prompt = "Is `3 / 2` a float in Python 3?"
    qs[3].save()
    qs[3].choices.filter(is_correct=True).update(text="`True`")
    refresh_item_analysis(now=NOW)
    url = reverse("teach:item_analysis", args=[quiz.pk])

    client.force_login(instructor)
    body = client.get(url).content.decode()
    row = body.split("<code>3 / 2</code>")[1].split("</tr>")[0]

    assert "Is <code>3 / 2</code> a float in Python 3?</th>" in body
    assert "<code>True</code> (key)" in row
    assert "`" not in body.split("<tbody>")[1]
    assert row.count("<strong>Negative discrimination (-") == 1
    assert row.lower().count("answer key") == 1
    assert row.lower().count("negative discrimination") == 1
    assert "<strong>Distractor " in body and "never chosen.</strong> Replace distractor" in body
    client.force_login(other_instructor)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
