"""Named mastery states: thresholds, evidence, forgetting over time, goal targets, blanks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from accounts.models import LearnerProfile
from accounts.tests.factories import LearnerFactory
from assessments.tests.factories import AnswerFactory, AssessmentAttemptFactory, QuestionFactory
from catalog.tests.factories import SkillFactory
from insights import bkt, mastery, skills
from insights.models import LearnerSkillState
from insights.tests.factories import MLModelFactory

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
ROUND = {"prior": 0.5, "learn": 0.2, "forget": 0.0, "guess": 0.2, "slip": 0.2}


def state(p, *, distinct, answers=None, correct=None, days=0):
    answers = distinct if answers is None else answers
    return mastery.mastery_state(
        mastery=p,
        distinct_questions=distinct,
        answers=answers,
        correct_answers=answers if correct is None else correct,
        last_practiced_at=NOW - timedelta(days=days),
        now=NOW,
    )


@pytest.mark.parametrize(
    ("p", "distinct", "expected"),
    [
        (0.4999, 1, "attempted"),
        (0.5, 1, "familiar"),
        (0.99, 1, "familiar"),  # one answer never reaches proficient
        (0.99, 2, "familiar"),
        (0.6999, 3, "familiar"),
        (0.7, 3, "proficient"),
        (0.8999, 9, "proficient"),
        (0.9, 4, "proficient"),  # mastered needs five different questions
        (0.9, 5, "mastered"),
    ],
)
def test_state_thresholds_need_probability_and_evidence(p, distinct, expected):
    assert state(p, distinct=distinct) == expected


def test_mastered_needs_five_right_answers_not_a_late_run_of_three():
    # Three wrong then three right: BKT's latest answers lift the level to 10.
    assert state(0.95, distinct=6, correct=3) == "proficient"
    assert state(0.95, distinct=6, correct=4) == "proficient"
    assert state(0.95, distinct=6, correct=5) == "mastered"


def test_no_answer_is_not_assessed_whatever_the_number():
    assert state(0.9, distinct=0, answers=0) == "not_assessed"
    unseen = mastery.mastery_state(
        mastery=None,
        distinct_questions=0,
        answers=0,
        correct_answers=0,
        last_practiced_at=None,
        now=NOW,
    )
    assert unseen == "not_assessed"


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (0, "mastered"),
        (29, "mastered"),
        (30, "proficient"),
        (59, "proficient"),
        (60, "familiar"),
        (90, "attempted"),
        (400, "attempted"),  # never below attempted: the learner did answer
    ],
)
def test_forgetting_moves_the_state_down_one_step_per_review_interval(days, expected):
    assert state(0.95, distinct=6, days=days) == expected


def test_target_reached_only_when_the_state_confirms_the_level():
    assert not mastery.target_reached(level=7, state="familiar", target_level=7)
    assert not mastery.target_reached(level=7, state="proficient", target_level=8)
    assert mastery.target_reached(level=8, state="proficient", target_level=7)
    assert mastery.target_reached(level=10, state="mastered", target_level=10)
    assert not mastery.target_reached(level=None, state="not_assessed", target_level=1)


def test_summary_names_level_state_and_evidence():
    one = mastery.describe(
        level=7,
        mastery=0.65,
        answers=1,
        distinct_questions=1,
        correct_answers=1,
        last_practiced_at=NOW,
        now=NOW,
    )
    assert one.summary == "Level 7 · familiar · 1 answer — take a skill check to confirm"
    assert mastery.NOT_ASSESSED_MASTERY.summary == (
        "Not assessed — take a skill check to measure it"
    )
    stale = mastery.describe(
        level=10,
        mastery=0.95,
        answers=6,
        distinct_questions=6,
        correct_answers=6,
        last_practiced_at=NOW - timedelta(days=65),
        now=NOW,
    )
    # QA walk (issue 13): "Level 10 · familiar" read oddly without why; it says since when.
    assert stale.summary == (
        "Level 10 · familiar · 6 answers, last practised 65 days ago — review it to confirm"
    )
    assert stale.faded and not one.faded
    assert one.uncertainty == pytest.approx((0.65 * 0.35) ** 0.5)


# Through the skill model: the same rules on real answers.


@pytest.fixture
def python(db):
    return SkillFactory(slug="python", name="Python")


@pytest.fixture
def learner(db):
    return LearnerFactory()


def attempt_with(learner, outcomes, *, submitted_at=NOW, questions=None, responses=None):
    """outcomes: [is_correct]; ``questions`` reuses existing questions (same order)."""
    attempt = AssessmentAttemptFactory(
        learner=learner, started_at=submitted_at - timedelta(minutes=30), submitted_at=submitted_at
    )
    skill = SkillFactory._meta.model.objects.get(slug="python")
    made = []
    for i, correct in enumerate(outcomes):
        question = (
            questions[i]
            if questions
            else QuestionFactory(assessment=attempt.assessment, skill=skill, order=i + 1)
        )
        made.append(question)
        AnswerFactory(
            attempt=attempt,
            question=question,
            is_correct=correct,
            response={"text": "x"} if responses is None else responses[i],
            answered_at=submitted_at - timedelta(minutes=20 - i),
        )
    return attempt, made


def test_one_correct_answer_never_reaches_proficient_even_from_a_high_prior(learner, python):
    MLModelFactory(
        name="skill_model",
        version=1,
        is_active=True,
        parameters={"python": {**ROUND, "prior": 0.9, "guess": 0.01, "slip": 0.01}},
    )
    attempt, _ = attempt_with(learner, [True])

    update = skills.process_attempt(attempt=attempt, now=NOW)

    assert update.breakdown["python"]["level_after"] == 10
    assert update.breakdown["python"]["state_after"] == "familiar"


def test_enough_correct_answers_on_different_questions_reach_proficient_then_mastered(
    learner, python
):
    MLModelFactory(name="skill_model", version=1, is_active=True, parameters={"python": ROUND})
    attempt, _ = attempt_with(learner, [True, True, True])
    first = skills.process_attempt(attempt=attempt, now=NOW)
    assert first.breakdown["python"]["state_after"] == "proficient"

    later, _ = attempt_with(learner, [True, True], submitted_at=NOW + timedelta(days=1))
    update = skills.process_attempt(attempt=later, now=NOW + timedelta(days=1))

    assert update.breakdown["python"]["state_before"] == "proficient"
    assert update.breakdown["python"]["state_after"] == "mastered"
    row = LearnerSkillState.objects.get(learner=learner)
    assert (row.evidence_count, row.distinct_questions) == (5, 5)
    # A month and more without practice: no longer mastered.
    assert row.mastery_at(NOW + timedelta(days=31)).state == "proficient"


def test_three_wrong_then_three_right_is_level_ten_but_only_proficient(learner, python):
    MLModelFactory(name="skill_model", version=1, is_active=True, parameters={"python": ROUND})
    attempt, _ = attempt_with(learner, [False, False, False, True, True, True])

    update = skills.process_attempt(attempt=attempt, now=NOW)

    assert update.breakdown["python"]["level_after"] == 10
    assert update.breakdown["python"]["state_after"] == "proficient"
    assert LearnerSkillState.objects.get(learner=learner).mastery_at(NOW).state == "proficient"


def test_repeating_the_same_questions_is_not_new_evidence_of_breadth(learner, python):
    MLModelFactory(name="skill_model", version=1, is_active=True, parameters={"python": ROUND})
    first, questions = attempt_with(learner, [True, True])
    skills.process_attempt(attempt=first, now=NOW)
    again, _ = attempt_with(
        learner, [True, True], submitted_at=NOW + timedelta(hours=1), questions=questions
    )

    update = skills.process_attempt(attempt=again, now=NOW + timedelta(hours=1))

    row = LearnerSkillState.objects.get(learner=learner)
    assert (row.evidence_count, row.distinct_questions) == (4, 2)
    assert row.level == 10
    assert update.breakdown["python"]["state_after"] == "familiar"


def test_a_blank_quiz_changes_nothing(learner, python):
    MLModelFactory(name="skill_model", version=1, is_active=True, parameters={"python": ROUND})
    first, _ = attempt_with(learner, [True, True, True])
    skills.process_attempt(attempt=first, now=NOW)
    before = LearnerSkillState.objects.get(learner=learner)
    blank, _ = attempt_with(
        learner,
        [False, False, False],
        submitted_at=NOW + timedelta(hours=1),
        responses=[{}, {"choices": []}, {"text": "  "}],
    )

    update = skills.process_attempt(attempt=blank, now=NOW + timedelta(hours=1))

    after = LearnerSkillState.objects.get(learner=learner)
    assert (after.mastery, after.level, after.evidence_count) == (
        before.mastery,
        before.level,
        before.evidence_count,
    )
    entry = update.breakdown["python"]
    assert (entry["questions"], entry["answered"]) == (3, 0)
    assert entry["level_before"] == entry["level_after"] == before.level


def test_blank_questions_on_a_new_skill_leave_it_not_assessed(learner, python):
    attempt, _ = attempt_with(learner, [False, False], responses=[{}, {}])

    update = skills.process_attempt(attempt=attempt, now=NOW)

    assert update.breakdown["python"]["state_after"] == "not_assessed"
    assert update.breakdown["python"]["level_after"] is None
    assert update.skill_levels == {}
    assert update.knowledge_gaps == []
    assert not LearnerSkillState.objects.exists()
    assert LearnerProfile.objects.get(user=learner).skill_levels == {}


def test_live_updates_equal_the_evaluated_model(learner, python):
    """The mastery a learner gets is the evaluation's forward pass, answer for answer."""
    weights = {"prior_weight": 1.0, "learn_weight": 0.5, "emission_weight": 0.5, "base_rate": 0.6}
    MLModelFactory(
        name="skill_model",
        version=1,
        is_active=True,
        parameters={"python": ROUND, skills.ABILITY_KEY: weights},
    )
    sql = SkillFactory(slug="sql", name="SQL")
    outcomes = [True, False, True, True, False, True, True]
    attempt = AssessmentAttemptFactory(
        learner=learner, started_at=NOW - timedelta(hours=1), submitted_at=NOW
    )
    for i, correct in enumerate(outcomes):
        skill = sql if i < 3 else python  # sql first: python starts with an ability
        AnswerFactory(
            attempt=attempt,
            question=QuestionFactory(assessment=attempt.assessment, skill=skill, order=i + 1),
            is_correct=correct,
            answered_at=NOW - timedelta(minutes=30 - i),
        )

    update = skills.process_attempt(attempt=attempt, now=NOW)

    data = bkt.Sequences.build(
        np.zeros(len(outcomes), dtype=np.int64),
        np.array([1, 1, 1, 0, 0, 0, 0]),
        np.array(outcomes),
    )
    params = [bkt.BKTParams(**ROUND), bkt.DEFAULT_PARAMS]
    ability = bkt.AbilityParams(**weights)
    rows = bkt.ParamArrays.from_params(params).take(data.skill)
    abilities = bkt.learner_abilities(data.by_learner, data.correct, ability.base_rate)
    _, mastery_after = bkt.forward(
        data.by_skill, data.correct, bkt.individualise(rows, abilities, ability)
    )
    assert update.breakdown["python"]["mastery"] == pytest.approx(mastery_after[-1], abs=1e-4)
    assert update.breakdown["sql"]["mastery"] == pytest.approx(mastery_after[2], abs=1e-4)
    # The learner's ability (2 of 3 right on sql) did move python's start.
    plain = bkt.ParamArrays.from_params(params).take(data.skill)
    _, without = bkt.forward(data.by_skill, data.correct, plain)
    assert abs(without[3] - mastery_after[3]) > 0.01


@pytest.mark.parametrize(
    ("level", "probability", "distinct", "days", "target", "expected"),
    [
        (None, None, 0, None, 7, "not assessed yet"),
        (5, 0.45, 2, 0, 7, "level 5 of 7"),
        # At the target level, below proficient in both respects, in one of them, in none.
        (
            7,
            0.66,
            1,
            0,
            7,
            "familiar on 1 answer: proficient needs level 8+ on 3 different questions (1 so far)",
        ),
        (7, 0.66, 3, 0, 7, "familiar on 3 answers: proficient needs level 8+"),
        (
            9,
            0.85,
            2,
            0,
            7,
            "familiar on 2 answers: proficient needs 3 different questions (2 so far)",
        ),
        (8, 0.75, 3, 0, 8, ""),
        (8, 0.75, 3, 31, 8, "familiar after 31 days without practice: review it to confirm"),
    ],
)
def test_short_of_says_why_a_target_is_not_reached_from_the_state_rules(
    level, probability, distinct, days, target, expected
):
    now = datetime(2026, 12, 1, tzinfo=UTC)
    described = mastery.describe(
        level=level,
        mastery=probability,
        answers=distinct,
        distinct_questions=distinct,
        correct_answers=distinct,
        last_practiced_at=None if days is None else now - timedelta(days=days),
        now=now,
    )

    assert described.short_of(target) == expected
    assert (expected == "") is mastery.target_reached(
        level=described.level, state=described.state, target_level=target
    )
