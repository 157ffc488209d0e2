"""The adaptive engine through its services: diagnostic, skill check, course challenge."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from assessments.models import Answer, Question
from assessments.selectors import courses_demonstrated
from assessments.services import (
    attempt_start,
    attempt_submit,
    course_challenge_start,
    skill_check_start,
)
from assessments.tests.adaptive import NOW, answer, choice_for, make_bank, run_to_end
from catalog.models import Difficulty
from catalog.tests.factories import CourseFactory
from insights import diagnostic, skills
from insights.mastery import ATTEMPTED, FAMILIAR, PROFICIENT
from insights.models import LearnerSkillState, PendingJob
from insights.skills import MODEL_NAME
from insights.tests.factories import MLModelFactory
from learning.tests.factories import GoalSkillFactory, LearningGoalFactory
from skillstudio.jobs import LEARNER_FOLLOW_UP

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return make_bank()


def _goal(learner, *skills):
    goal = LearningGoalFactory(learner=learner, title="Backend")
    for skill in skills:
        GoalSkillFactory(goal=goal, skill=skill, target_level=7)
    return goal


def test_diagnostic_stops_per_skill_and_never_asks_a_question_twice(learner, bank):
    python, sql = bank["skills"]["python"], bank["skills"]["sql"]
    _goal(learner, python, sql)
    attempt = attempt_start(learner=learner, assessment=bank["diagnostic"], now=NOW)
    assert attempt.adaptive_skills == [python.pk, sql.pk]

    # Knows python, not sql.
    asked = run_to_end(attempt, lambda q: q.skill_id == python.pk)

    assert len({q.pk for q in asked}) == len(asked)
    per_skill = Counter(q.skill.slug for q in asked)
    # Python: certain after three right answers on three questions; sql after three wrong.
    assert per_skill == {"python": 3, "sql": 3}
    # Skills are asked one after the other.
    assert [q.skill.slug for q in asked] == ["python"] * 3 + ["sql"] * 3
    states = {
        s.skill.slug: s.mastery_at(NOW).state
        for s in LearnerSkillState.objects.filter(learner=learner)
    }
    assert states == {"python": PROFICIENT, "sql": ATTEMPTED}
    attempt.refresh_from_db()
    assert attempt.is_submitted and attempt.current_question_id is None
    assert attempt.skill_breakdown["python"]["answered"] == 3
    assert PendingJob.objects.filter(task_name=LEARNER_FOLLOW_UP).exists()


def test_a_skill_stops_at_the_maximum_when_answers_keep_it_uncertain(learner, bank):
    # A noisy skill (a right answer and a wrong one say little): alternating answers keep
    # it uncertain. With the default parameters they no longer can, since the answers of
    # an adaptive attempt teach nothing (insights.bkt): right then wrong ends below 0.25.
    MLModelFactory(
        name=MODEL_NAME,
        version=1,
        is_active=True,
        parameters={"python": {"prior": 0.3, "guess": 0.35, "slip": 0.3}},
    )
    python = bank["skills"]["python"]
    attempt = skill_check_start(learner=learner, skill=python, now=NOW)
    pattern = iter([True, False, True, False, True, False, True])

    asked = run_to_end(attempt, lambda q: next(pattern))

    assert len(asked) == diagnostic.MAX_QUESTIONS
    assert len({q.pk for q in asked}) == diagnostic.MAX_QUESTIONS


def test_a_right_answer_is_followed_by_a_harder_question_a_wrong_one_by_an_easier(
    learner, other_learner, bank
):
    python = bank["skills"]["python"]
    first = skill_check_start(learner=learner, skill=python, now=NOW)
    start = Question.objects.get(pk=first.current_question_id)
    # At the prior (0.3) the closest item is an easy one.
    assert start.difficulty == Difficulty.BEGINNER

    after_right = Question.objects.get(pk=answer(first, True, 1).current_question_id)
    assert after_right.difficulty == Difficulty.ADVANCED

    second = skill_check_start(learner=other_learner, skill=python, now=NOW)
    second = answer(second, True, 1)
    after_wrong = Question.objects.get(pk=answer(second, False, 2).current_question_id)
    assert after_wrong.difficulty in (Difficulty.BEGINNER, Difficulty.INTERMEDIATE)
    assert after_wrong.difficulty != Difficulty.ADVANCED


def test_item_analysis_difficulty_wins_over_the_authored_one(learner, bank):
    from insights.models import ItemAnalysisRun, QuestionItemAnalysis

    python = bank["skills"]["python"]
    # The authored "advanced" items measured as very easy: they are the easy start now.
    run = ItemAnalysisRun.objects.create(assessment=bank["quiz"], answers=100, computed_at=NOW)
    advanced = list(Question.objects.filter(skill=python, difficulty=Difficulty.ADVANCED))
    for question in advanced:
        QuestionItemAnalysis.objects.create(
            run=run, question=question, answers=50, irt_difficulty=-1.0
        )
    for question in Question.objects.filter(skill=python, difficulty=Difficulty.BEGINNER):
        QuestionItemAnalysis.objects.create(
            run=run, question=question, answers=50, irt_difficulty=1.5
        )

    attempt = skill_check_start(learner=learner, skill=python, now=NOW)

    assert attempt.current_question_id in {q.pk for q in advanced}


def test_dont_know_is_no_evidence_and_two_of_them_alone_stop_the_skill(learner, bank):
    """Two "I don't know" on a skill with nothing answered: the learner told us, so the
    diagnostic moves on instead of asking all six (a newcomer clicked 36 times)."""
    _goal(learner, bank["skills"]["python"], bank["skills"]["sql"])
    attempt = attempt_start(learner=learner, assessment=bank["diagnostic"], now=NOW)

    asked = run_to_end(attempt, lambda q: None)

    assert [q.skill.slug for q in asked] == ["python", "python", "sql", "sql"]
    assert not LearnerSkillState.objects.filter(learner=learner).exists()
    assert all(a.response == {} for a in Answer.objects.filter(attempt=attempt))


def test_two_dont_knows_beside_an_answer_stop_the_skill(learner, bank):
    """One right answer, then "I don't know" twice: the learner told us, and is not asked
    the rest of the six (the QA walk saw six questions on one skill)."""
    python = bank["skills"]["python"]
    attempt = skill_check_start(learner=learner, skill=python, now=NOW)
    attempt = answer(attempt, True, 1)

    asked = run_to_end(attempt, lambda q: None)

    assert len(asked) == diagnostic.DECLINED_AFTER


def test_a_stale_or_finished_question_is_refused(learner, bank):
    python = bank["skills"]["python"]
    attempt = skill_check_start(learner=learner, skill=python, now=NOW)
    asked = attempt.current_question_id
    attempt = answer(attempt, True, 1)

    with pytest.raises(ValidationError, match="not the one being asked"):
        from assessments.services import attempt_answer

        attempt_answer(
            attempt=attempt,
            question_id=asked,
            response={"choices": [choice_for(asked, True)]},
            now=NOW,
        )
    with pytest.raises(ValidationError, match="one question at a time"):
        attempt_submit(attempt=attempt, responses={}, now=NOW)
    assert Answer.objects.filter(attempt=attempt).count() == 1


def test_a_malformed_answer_is_refused_and_stores_nothing(learner, bank):
    from assessments.services import attempt_answer

    attempt = skill_check_start(learner=learner, skill=bank["skills"]["python"], now=NOW)

    with pytest.raises(ValidationError):
        attempt_answer(
            attempt=attempt,
            question_id=attempt.current_question_id,
            response={"choices": ["x"]},
            now=NOW,
        )
    assert not Answer.objects.filter(attempt=attempt).exists()


def test_skill_check_restarts_fresh_and_prefers_unseen_questions(learner, bank):
    python = bank["skills"]["python"]
    first = run_to_end(skill_check_start(learner=learner, skill=python, now=NOW), lambda q: True)

    second = skill_check_start(learner=learner, skill=python, now=NOW)

    assert not second.is_submitted
    assert second.current_question_id not in {q.pk for q in first}
    # Seven Python questions: the second check (three right answers) needs none of the first's.
    again = run_to_end(second, lambda q: True)
    assert len(again) == 3
    assert not {q.pk for q in again} & {q.pk for q in first}


def test_course_challenge_passed_demonstrates_the_course(learner, other_learner, bank):
    python, sql = bank["skills"]["python"], bank["skills"]["sql"]
    course = CourseFactory(title="Backend basics", skills=[python, sql])

    passed = course_challenge_start(learner=learner, course=course, now=NOW)
    run_to_end(passed, lambda q: True)
    failed = course_challenge_start(learner=other_learner, course=course, now=NOW)
    run_to_end(failed, lambda q: q.skill_id == python.pk)

    passed.refresh_from_db()
    failed.refresh_from_db()
    assert passed.passed is True
    assert failed.passed is False
    assert list(courses_demonstrated(learner=learner)) == [course]
    assert not courses_demonstrated(learner=other_learner).exists()


def test_course_challenge_needs_a_published_course_with_skills(learner, bank):
    from catalog.models import Course

    with pytest.raises(ValidationError, match="no skills"):
        course_challenge_start(learner=learner, course=CourseFactory(), now=NOW)
    draft = CourseFactory(status=Course.Status.DRAFT, skills=[bank["skills"]["python"]])
    with pytest.raises(ValidationError, match="not open"):
        course_challenge_start(learner=learner, course=draft, now=NOW)


def test_a_skill_without_questions_cannot_be_checked(learner):
    from catalog.tests.factories import SkillFactory

    with pytest.raises(ValidationError, match="no questions"):
        skill_check_start(learner=learner, skill=SkillFactory(), now=NOW)


@pytest.mark.parametrize(
    ("mastery", "asked", "answered", "distinct", "left", "reason"),
    [
        (0.95, 1, 1, 1, 5, None),  # one answer never settles a skill
        (0.95, 2, 2, 2, 4, None),  # high, but not yet on proficiency's breadth
        (0.95, 3, 3, 3, 3, diagnostic.STOP_KNOWN),
        (0.1, 2, 2, 2, 4, None),  # low on two answers: not settled either
        (0.1, 3, 3, 3, 3, diagnostic.STOP_NOT_KNOWN),
        (0.2, 3, 3, 3, 3, None),  # "not known" asks for stronger evidence than "known"
        (0.15, 3, 3, 3, 3, diagnostic.STOP_NOT_KNOWN),
        (0.5, 5, 5, 5, 1, None),
        (0.5, 6, 6, 6, 1, diagnostic.STOP_MAXIMUM),
        (0.5, 2, 2, 2, 0, diagnostic.STOP_NO_QUESTIONS),
        (0.3, 1, 0, 0, 5, None),  # one "I don't know": still asking
        (0.3, 2, 0, 0, 4, diagnostic.STOP_DECLINED),  # two, nothing answered: they told us
        (0.5, 2, 1, 1, 4, None),  # one "I don't know" beside an answer: still asking
        (0.9, 3, 1, 1, 3, diagnostic.STOP_DECLINED),  # two beside a right answer: told us
    ],
)
def test_stop_rule_boundaries(mastery, asked, answered, distinct, left, reason):
    assert (
        diagnostic.stop_reason(
            mastery=mastery,
            asked=asked,
            answered=answered,
            distinct_questions=distinct,
            items_left=left,
        )
        == reason
    )


def test_the_bank_leaves_out_unpublished_quizzes_and_draft_courses(learner):
    from assessments.tests.factories import AssessmentFactory, QuestionFactory
    from catalog.models import Course
    from catalog.tests.factories import SkillFactory

    hidden = SkillFactory(slug="hidden")
    draft = CourseFactory(status=Course.Status.DRAFT)
    QuestionFactory(assessment=AssessmentFactory(course=draft), skill=hidden)
    QuestionFactory(assessment=AssessmentFactory(is_published=False), skill=hidden)

    with pytest.raises(ValidationError, match="no questions"):
        skill_check_start(learner=learner, skill=hidden, now=NOW)
    QuestionFactory(assessment=AssessmentFactory(course=CourseFactory()), skill=hidden)
    assert skill_check_start(learner=learner, skill=hidden, now=NOW).current_question_id


def _state(learner, skill):
    return LearnerSkillState.objects.get(learner=learner, skill=skill)


def test_three_wrong_diagnostic_answers_leave_mastery_lower_than_three_wrong_quiz_answers(
    learner, other_learner, bank
):
    """A diagnostic's answers get no feedback, so they teach nothing: three wrong ones say
    "not known" and mastery stays there; three wrong quiz answers are each followed by a
    chance to learn from the review, which keeps mastery near learn (0.15)."""
    python = bank["skills"]["python"]
    _goal(learner, python)
    measuring = attempt_start(learner=learner, assessment=bank["diagnostic"], now=NOW)
    asked = run_to_end(measuring, lambda q: False)
    assert len(asked) == diagnostic.MIN_ANSWERS == 3

    quiz = attempt_start(learner=other_learner, assessment=bank["quiz"], now=NOW)
    wrong = {
        q.pk: {"choices": [choice_for(q.pk, False)]}
        for q in bank["quiz"].questions.filter(skill=python).order_by("order")[:3]
    }
    attempt_submit(attempt=quiz, responses=wrong, now=NOW)

    measured, taught = _state(learner, python), _state(other_learner, python)
    assert (measured.evidence_count, taught.evidence_count) == (3, 3)
    assert measured.mastery < 0.01
    assert taught.mastery == pytest.approx(0.171, abs=0.001)
    assert measured.mastery < taught.mastery
    assert measured.mastery_at(NOW).state == taught.mastery_at(NOW).state == ATTEMPTED


def test_one_right_skill_check_answer_never_reaches_proficient(learner, bank):
    python = bank["skills"]["python"]
    attempt = skill_check_start(learner=learner, skill=python, now=NOW)

    attempt = answer(attempt, True, 1)

    preview = skills.skill_breakdown(attempt=attempt)["python"]
    # Bayes on one right answer, no learning step: 0.3 * 0.9 / 0.41.
    assert preview["mastery"] == pytest.approx(0.6585, abs=1e-4)
    assert preview["state_after"] == FAMILIAR
    assert not attempt.is_submitted


def test_a_replay_reads_adaptive_answers_as_the_attempt_did(learner, bank):
    """recompute_learner_skills after a diagnostic and a quiz gives the states the two
    attempts left: the diagnostic's answers teach nothing in the replay either."""
    python, sql = bank["skills"]["python"], bank["skills"]["sql"]
    _goal(learner, python, sql)
    measuring = attempt_start(learner=learner, assessment=bank["diagnostic"], now=NOW)
    run_to_end(measuring, lambda q: q.skill_id == python.pk)
    quiz = attempt_start(learner=learner, assessment=bank["quiz"], now=NOW + timedelta(days=1))
    attempt_submit(
        attempt=quiz,
        responses={
            q.pk: {"choices": [choice_for(q.pk, q.order % 2 == 0)]}
            for q in bank["quiz"].questions.all()
        },
        now=NOW + timedelta(days=1),
    )
    before = {s.skill_id: s.mastery for s in LearnerSkillState.objects.filter(learner=learner)}

    skills.recompute_learner_skills(learner=learner, now=NOW + timedelta(days=2))

    after = {s.skill_id: s.mastery for s in LearnerSkillState.objects.filter(learner=learner)}
    assert after == pytest.approx(before)
