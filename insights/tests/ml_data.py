"""Shared test data for the predictive models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.models import User
from assessments.models import Answer, AssessmentAttempt
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import SkillFactory

T = datetime(2026, 11, 1, tzinfo=UTC)


def build_answered_quiz(*, owner: User | None = None) -> tuple:
    """40 learners of rising ability j = 0..39 answer a 6-question quiz."""
    algebra, logic = SkillFactory(name="Algebra"), SkillFactory(name="Logic")
    quiz = AssessmentFactory(**({"owner": owner} if owner else {}))
    qs = [QuestionFactory(assessment=quiz, skill=algebra if k in (0, 1, 2, 5) else logic)
          for k in range(6)]  # fmt: skip
    choices = {q.id: [ChoiceFactory(question=q, is_correct=True), ChoiceFactory(question=q)]
               for q in qs}  # fmt: skip
    easy_distractor = ChoiceFactory(question=qs[4], text="Nobody falls for this")
    correct_if = {
        qs[0].id: lambda j: j >= 10,  # 75 % correct
        qs[1].id: lambda j: j >= 20,
        qs[2].id: lambda j: j >= 30,
        qs[3].id: lambda j: j < 20,  # the weak half gets it right: a wrong answer key
        qs[4].id: lambda j: True,  # everyone right
        qs[5].id: lambda j: j >= 25,  # only learners 35..39 answer it (thin)
    }
    users = User.objects.bulk_create(
        [User(email=f"irt{j}@example.com", password="!") for j in range(40)]
    )
    attempts = AssessmentAttempt.objects.bulk_create(
        [
            AssessmentAttempt(
                learner=u, assessment=quiz, started_at=T, submitted_at=T + timedelta(minutes=5)
            )
            for u in users
        ]
    )
    answers = []
    for j, attempt in enumerate(attempts):
        for q in qs:
            if q == qs[5] and j < 35:
                continue
            right, wrong = choices[q.id]
            ok = correct_if[q.id](j)
            picked = right if ok else wrong
            answers.append(
                Answer(
                    attempt=attempt,
                    question=q,
                    response={"choices": [picked.id]},
                    is_correct=ok,
                    answered_at=T,
                )
            )
    Answer.objects.bulk_create(answers)
    return quiz, qs, easy_distractor
