from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import LearnerProfile
from accounts.tests.factories import LearnerFactory
from assessments.models import AssessmentAttempt
from assessments.tests.factories import AnswerFactory, AssessmentAttemptFactory, QuestionFactory
from catalog.tests.factories import LessonFactory, SkillFactory
from insights import skills
from insights.models import ItemAnalysisRun, LearnerSkillState, QuestionItemAnalysis
from insights.progress import breakdown_rows
from insights.tests.factories import MLModelFactory
from learning.models import LearningGoal, LessonProgress
from learning.tests.factories import LearningGoalFactory, LessonProgressFactory

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


# Round numbers so the expected masteries below can be worked out by hand.
ROUND = {"prior": 0.5, "learn": 0.2, "forget": 0.0, "guess": 0.2, "slip": 0.2}


@pytest.fixture
def python(db):
    return SkillFactory(slug="python", name="Python")


@pytest.fixture
def sql(db):
    return SkillFactory(slug="sql", name="SQL")


@pytest.fixture
def round_model(python, sql):
    return MLModelFactory(
        name="skill_model", version=1, is_active=True, parameters={"python": ROUND, "sql": ROUND}
    )


def make_attempt(learner, answers, *, submitted_at=NOW, submitted=True):
    """answers: [(skill, is_correct)], answered one minute apart in this order."""
    attempt = AssessmentAttemptFactory(
        learner=learner,
        started_at=submitted_at - timedelta(minutes=30),
        submitted_at=submitted_at if submitted else None,
    )
    for i, (skill, correct) in enumerate(answers):
        question = QuestionFactory(assessment=attempt.assessment, skill=skill, order=100 - i)
        AnswerFactory(
            attempt=attempt,
            question=question,
            is_correct=correct,
            answered_at=submitted_at - timedelta(minutes=20 - i),
        )
    return attempt


@pytest.mark.parametrize(
    ("mastery", "level"),
    [(0.0, 1), (0.0999, 1), (0.1, 2), (0.3, 4), (0.5, 6), (0.8999, 9), (0.9, 10), (1.0, 10)],
)
def test_level_from_mastery_boundaries(mastery, level):
    assert skills.level_from_mastery(mastery) == level


def test_level_from_mastery_rejects_nan():
    with pytest.raises(ValueError, match="finite"):
        skills.level_from_mastery(float("nan"))


def test_process_attempt_updates_state_profile_and_breakdown(learner, python, sql, round_model):
    # Question order is the reverse of answer time: answers must replay by answered_at.
    attempt = make_attempt(learner, [(python, True), (python, True), (python, False), (sql, False)])

    update = skills.process_attempt(attempt=attempt, now=NOW)

    # python from .5 (level 6): correct -> .4/.5 = .8, then .8 + .2*.2 = .84;
    # correct -> .672/.704 = 21/22, then 21/22 + 1/22*.2 = 53/55 = .963636;
    # wrong -> (53/55*.2)/(53/55*.2 + 2/55*.8) = 53/61, then 53/61 + 8/61*.2 = 273/305 = .895082
    # sql from .5: wrong -> .1/.5 = .2, then .2 + .8*.2 = .36 (level 4)
    assert update.breakdown == {
        "python": {
            "skill": "Python",
            "questions": 3,
            "answered": 3,
            "correct": 2,
            "percent": 66.7,
            "level_before": None,
            "state_before": "not_assessed",
            "level_after": 9,
            "state_after": "proficient",
            "mastery": 0.8951,
            "answers": 3,
            "distinct_questions": 3,
        },
        "sql": {
            "skill": "SQL",
            "questions": 1,
            "answered": 1,
            "correct": 0,
            "percent": 0.0,
            "level_before": None,
            "state_before": "not_assessed",
            "level_after": 4,
            "state_after": "attempted",
            "mastery": 0.36,
            "answers": 1,
            "distinct_questions": 1,
        },
    }
    assert update.skill_levels == {"python": 9, "sql": 4}
    assert update.knowledge_gaps == ["sql"]  # below the default level 5
    state = LearnerSkillState.objects.get(learner=learner, skill=python)
    assert state.mastery == pytest.approx(273 / 305)
    assert (state.level, state.evidence_count, state.correct_count) == (9, 3, 2)
    assert state.distinct_questions == 3
    assert state.last_practiced_at == NOW - timedelta(minutes=18)
    assert LearnerProfile.objects.get(user=learner).skill_levels == {"python": 9, "sql": 4}
    attempt.refresh_from_db()
    assert attempt.skills_processed_at == NOW
    assert attempt.skill_breakdown == update.breakdown


def test_process_attempt_is_idempotent(learner, python, round_model):
    attempt = make_attempt(learner, [(python, True)])
    first = skills.process_attempt(attempt=attempt, now=NOW)
    state_before = LearnerSkillState.objects.get(learner=learner)

    again = skills.process_attempt(attempt=attempt, now=NOW + timedelta(hours=1))

    state_after = LearnerSkillState.objects.get(learner=learner)
    assert again == first
    assert (state_after.mastery, state_after.evidence_count, state_after.updated_at) == (
        state_before.mastery,
        state_before.evidence_count,
        state_before.updated_at,
    )
    attempt.refresh_from_db()
    assert attempt.skills_processed_at == NOW


def completed_lesson(learner, skill, *, at, skimmed=False):
    LessonProgressFactory(
        learner=learner,
        lesson=LessonFactory(skills=[skill]),
        status=LessonProgress.Status.COMPLETED,
        started_at=at - timedelta(minutes=20),
        completed_at=at,
        skimmed=skimmed,
    )


def diagnosed_then_quizzed(learner, skill, *, study):
    """A diagnostic's wrong answer on ``skill`` (no feedback: no transition), ``study``
    (lessons completed in the day between), then a quiz's right answer."""
    diagnostic = make_attempt(learner, [(skill, False)])
    diagnostic.adaptive_skills = [skill.pk]
    diagnostic.save(update_fields=["adaptive_skills"])
    skills.process_attempt(attempt=diagnostic, now=NOW)
    study()
    quiz = make_attempt(learner, [(skill, True)], submitted_at=NOW + timedelta(days=1))
    return skills.process_attempt(attempt=quiz, now=NOW + timedelta(days=1))


def test_study_between_a_diagnostic_and_a_quiz_is_a_learning_opportunity(
    learner, other_learner, python, sql, round_model
):
    # Diagnostic miss: .5*.2 / (.5*.2 + .5*.8) = .2, no transition. Two lessons on python
    # since: one transition, .2 + .8*.2 = .36. Right on the quiz: .36*.8 / (.288 + .64*.2)
    # = .692308, then the quiz's own transition: .692308 + .307692*.2 = .753846 (level 8).
    def study_python():
        completed_lesson(learner, python, at=NOW + timedelta(hours=2))
        completed_lesson(learner, python, at=NOW + timedelta(hours=3))

    studied = diagnosed_then_quizzed(learner, python, study=study_python)

    # No study of python (a skim, a lesson on another skill): .2 -> right: .16/(.16 + .16)
    # = .5, then .5 + .5*.2 = .6 (level 7): no study of python in the gap.
    def no_python_study():
        completed_lesson(other_learner, python, at=NOW + timedelta(hours=2), skimmed=True)
        completed_lesson(other_learner, sql, at=NOW + timedelta(hours=3))

    unstudied = diagnosed_then_quizzed(other_learner, python, study=no_python_study)

    assert studied.breakdown["python"]["mastery"] == 0.7538
    assert unstudied.breakdown["python"]["mastery"] == 0.6
    assert (studied.skill_levels, unstudied.skill_levels) == ({"python": 8}, {"python": 7})

    # A replay reads the same study the same way.
    skills.recompute_learner_skills(learner=learner, now=NOW + timedelta(days=2))
    state = LearnerSkillState.objects.get(learner=learner, skill=python)
    assert state.mastery == pytest.approx(0.753846, abs=1e-6)


def test_study_between_answers_learns_without_forgetting(learner, python):
    MLModelFactory(
        name="skill_model",
        version=1,
        is_active=True,
        parameters={"python": {**ROUND, "forget": 0.3}},
    )

    # Diagnostic miss: .2. Study: .2 + .8*.2 = .36 (a full transition would forget: .30).
    # Right on the quiz: .692308, then the quiz's transition, which does forget:
    # .692308*.7 + .307692*.2 = .546154.
    def study_python():
        completed_lesson(learner, python, at=NOW + timedelta(hours=2))

    update = diagnosed_then_quizzed(learner, python, study=study_python)

    assert update.breakdown["python"]["mastery"] == 0.5462


def test_study_after_a_quiz_answer_adds_no_second_transition(learner, python, round_model):
    # The quiz's answer already had its transition: right, .5*.8/(.4 + .1) = .8, then
    # .8 + .2*.2 = .84; the lesson after it is the same opportunity. Next quiz, right:
    # .84*.8 / (.672 + .16*.2) = .954545, then + .045455*.2 = .963636 (as without the lesson).
    skills.process_attempt(attempt=make_attempt(learner, [(python, True)]), now=NOW)
    completed_lesson(learner, python, at=NOW + timedelta(hours=2))
    later = make_attempt(learner, [(python, True)], submitted_at=NOW + timedelta(days=1))

    update = skills.process_attempt(attempt=later, now=NOW + timedelta(days=1))

    assert update.breakdown["python"]["mastery"] == 0.9636


def test_second_attempt_continues_from_stored_mastery(learner, python, round_model):
    skills.process_attempt(attempt=make_attempt(learner, [(python, True)]), now=NOW)
    later = make_attempt(learner, [(python, True)], submitted_at=NOW + timedelta(days=1))

    update = skills.process_attempt(attempt=later, now=NOW + timedelta(days=1))

    # .84 (level 9) -> correct -> 21/22, then 53/55 = .963636 (level 10)
    assert update.breakdown["python"]["level_before"] == 9
    assert update.breakdown["python"]["state_before"] == "familiar"
    # Level 10 on two different questions: familiar, not proficient (three needed).
    assert update.breakdown["python"]["state_after"] == "familiar"
    assert update.breakdown["python"]["mastery"] == 0.9636
    state = LearnerSkillState.objects.get(learner=learner)
    assert (state.level, state.evidence_count, state.correct_count) == (10, 2, 2)


def test_knowledge_gaps_follow_active_goal_targets(learner, python, sql, round_model):
    goal = LearningGoalFactory(learner=learner)
    goal.target_skills.create(skill=python, target_level=10)
    abandoned = LearningGoalFactory(learner=learner, status=LearningGoal.Status.ABANDONED)
    abandoned.target_skills.create(skill=sql, target_level=2)
    attempt = make_attempt(learner, [(python, True), (python, True), (python, False), (sql, False)])

    update = skills.process_attempt(attempt=attempt, now=NOW)

    # python 9 < goal target 10; sql 4 < default 5 (the abandoned goal's target 2 is ignored).
    assert update.knowledge_gaps == ["sql", "python"]


def test_unknown_skill_uses_default_parameters(learner, python):
    update = skills.process_attempt(attempt=make_attempt(learner, [(python, True)]), now=NOW)

    # Defaults .3/.15/.02/.2/.1: .27/.41 = .658537, then *.98 + .341463*.15 = .696585
    assert update.breakdown["python"]["mastery"] == 0.6966
    # Never assessed before: no level to compare with (not the prior's level 4).
    assert update.breakdown["python"]["level_before"] is None


def test_unsubmitted_attempt_is_refused(learner, python):
    attempt = make_attempt(learner, [(python, True)], submitted=False)

    with pytest.raises(skills.SkillModelError, match="submitted"):
        skills.process_attempt(attempt=attempt, now=NOW)
    assert not LearnerSkillState.objects.exists()


def test_process_attempt_queries_do_not_grow_with_answers(
    learner, python, sql, round_model, django_assert_max_num_queries
):
    small = make_attempt(learner, [(python, True), (sql, False)])
    big = make_attempt(
        learner, [(python, i % 3 > 0) for i in range(30)] + [(sql, True)] * 10, submitted_at=NOW
    )
    # savepoint, profile lock, attempt lock, answers, states, questions answered before,
    # the last answers before (ability), model, 1-2 state writes, profile, attempt,
    # goal targets, release
    with django_assert_max_num_queries(15):
        skills.process_attempt(attempt=small, now=NOW)
    with django_assert_max_num_queries(15):
        skills.process_attempt(attempt=big, now=NOW)
    assert LearnerSkillState.objects.get(learner=learner, skill=python).evidence_count == 31


def test_a_miss_on_a_question_the_item_analysis_found_hard_costs_less(
    learner, other_learner, python
):
    """A model fitted with item weight 1 reads each answer with its question's stored IRT
    difficulty: the same wrong answer leaves more mastery on a hard question (b = +1.5)
    than on an easy one (b = -1.5)."""
    MLModelFactory(
        name="skill_model",
        version=1,
        is_active=True,
        parameters={"python": ROUND, skills.ABILITY_KEY: {"item_weight": 1.0}},
    )
    hard = make_attempt(learner, [(python, False)])
    easy = make_attempt(other_learner, [(python, False)])
    for attempt, difficulty in ((hard, 1.5), (easy, -1.5)):
        run = ItemAnalysisRun.objects.create(
            assessment=attempt.assessment, answers=40, computed_at=NOW
        )
        QuestionItemAnalysis.objects.create(
            run=run,
            question=attempt.answers.get().question,
            answers=40,
            irt_difficulty=difficulty,
        )

    skills.process_attempt(attempt=hard, now=NOW)
    skills.process_attempt(attempt=easy, now=NOW)

    state = {s.learner_id: s.mastery for s in LearnerSkillState.objects.filter(skill=python)}
    # ROUND: prior 0.5, guess = slip = 0.2; at b = 0 a miss would leave 0.2 before learning.
    assert state[learner.pk] > 0.2 + 0.2 * 0.8 > state[other_learner.pk]


def test_skill_breakdown_previews_without_writing(learner, python, round_model):
    attempt = make_attempt(learner, [(python, True)])

    preview = skills.skill_breakdown(attempt=attempt)

    assert preview["python"]["level_after"] == 9  # .84
    assert not LearnerSkillState.objects.exists()
    skills.process_attempt(attempt=attempt, now=NOW)
    assert skills.skill_breakdown(attempt=attempt) == preview


def test_skill_history_traces_levels_over_attempts(learner, other_learner, python, round_model):
    first = make_attempt(learner, [(python, True)], submitted_at=NOW - timedelta(days=3))
    second = make_attempt(learner, [(python, False)], submitted_at=NOW - timedelta(days=2))
    skills.process_attempt(attempt=first, now=NOW - timedelta(days=3))
    skills.process_attempt(attempt=second, now=NOW - timedelta(days=2))
    skills.process_attempt(attempt=make_attempt(other_learner, [(python, False)]), now=NOW)

    history = skills.skill_history(learner=learner, skill=python, now=NOW)

    # .84 -> wrong: .168/(.168 + .16*.8) = .567568, then + .432432*.2 = .654054 (level 7)
    assert [(p.attempt_id, p.level_before, p.level_after) for p in history.points] == [
        (first.pk, None, 9),
        (second.pk, 9, 7),
    ]
    assert (history.level, history.evidence_count, history.correct_count) == (7, 2, 1)
    assert history.days_since_practice == 2
    back_then = skills.skill_history(learner=learner, skill=python, now=NOW - timedelta(days=3))
    assert [p.attempt_id for p in back_then.points] == [first.pk]


def test_skill_history_without_practice(learner, python):
    history = skills.skill_history(learner=learner, skill="python", now=NOW)

    assert (history.level, history.points, history.days_since_practice) == (None, [], None)


def test_recompute_replays_with_the_active_parameters(learner, python, sql, round_model):
    skills.process_attempt(attempt=make_attempt(learner, [(python, True)]), now=NOW)
    skills.process_attempt(
        attempt=make_attempt(learner, [(sql, False)], submitted_at=NOW + timedelta(hours=1)),
        now=NOW,
    )
    make_attempt(learner, [(python, False)], submitted=False)  # in progress: not replayed
    round_model.is_active = False
    round_model.save()
    MLModelFactory(name="skill_model", version=2, is_active=True, parameters={})

    replayed = skills.recompute_learner_skills(learner=learner, now=NOW + timedelta(days=1))

    # Defaults: python after one correct answer .696585 (level 7); sql after one wrong:
    # .03/(.03 + .7*.8) = .050847, then .050847*.98 + .949153*.15 = .049830 + .142373 = .192203
    assert replayed == 2
    assert LearnerProfile.objects.get(user=learner).skill_levels == {"python": 7, "sql": 2}
    states = {s.skill.slug: s for s in LearnerSkillState.objects.filter(learner=learner)}
    assert states["sql"].mastery == pytest.approx(0.192203, abs=1e-6)
    assert states["python"].evidence_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_processing_of_one_attempt_counts_it_once(python):
    attempt = make_attempt(LearnerFactory(), [(python, True), (python, False)])
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def process() -> None:
        try:
            barrier.wait()
            skills.process_attempt(attempt=AssessmentAttempt.objects.get(pk=attempt.pk), now=NOW)
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    state = LearnerSkillState.objects.get(skill=python)
    assert (state.evidence_count, state.correct_count) == (2, 1)


def test_a_quiz_with_no_right_answer_can_raise_a_level_and_the_result_says_why(
    client, learner, python, round_model
):
    # Diagnostic, three misses without feedback: .5 -> .2 -> .058824 -> .015385 (level 1).
    diagnostic = make_attempt(learner, [(python, False)] * 3)
    diagnostic.adaptive_skills = [python.pk]
    diagnostic.save(update_fields=["adaptive_skills"])
    skills.process_attempt(attempt=diagnostic, now=NOW)
    # A quiz miss with feedback: .015385*.2 / (.003077 + .984615*.8) = .003891, then the
    # answer's learn transition: .003891 + .996109*.2 = .203113 (level 3).
    quiz = make_attempt(learner, [(python, False)], submitted_at=NOW + timedelta(days=1))
    update = skills.process_attempt(attempt=quiz, now=NOW + timedelta(days=1))

    entry = update.breakdown["python"]
    assert (entry["level_before"], entry["level_after"]) == (1, 3)
    (row,) = breakdown_rows(breakdown=update.breakdown)
    assert row.change == "practised"
    client.force_login(learner)
    html = client.get(reverse("assessments:attempt", args=[quiz.pk])).content.decode()
    assert (
        "none right: answering and seeing each answer marked counts as practice, which the "
        "skill model expects to teach a little"
    ) in html
    assert '<span class="badge ok">up</span>' not in html
