"""Item analysis for instructors: classical statistics, IRT fit and broken-question flags.

- share correct and point-biserial discrimination (item score vs. the rest of the test),
  from each learner's first answer to each question of the assessment;
- item difficulties per skill (`fit_two_class`), fitted by EM on every question on the
  skill, whichever assessment it is in, under the skill model's own latent structure: a
  learner knows the skill or does not, and a question's difficulty b moves the chance of
  a right answer in both cases, in logits (KT-IDEM's item offset on BKT's guess and
  slip);
- questions with fewer than `MIN_FIT_ANSWERS` answers get a *predicted* difficulty: the
  mean of the fitted questions on the same skill with the same difficulty label in the
  assessment, else the label's (beginner -1, intermediate 0, advanced +1), marked as
  predicted.

**Why per skill, one person per attempt, two classes.** The adaptive diagnostic, skill
checks and course challenges ask a skill's questions by the learner's estimate on that
skill, so a hard question reaches mostly learners who know the skill. One ability across
every skill of an assessment cannot see that, and such questions came out easy; a normal
ability per skill read them better, but not on skills where knowing decides almost every
answer (guess and slip near 0), whose hardest questions it still read as the easiest
(BENCHMARKS.md, "Adaptivity", item difficulties). Knowledge is the learner's on that skill
at the time of the attempt (learners learn between attempts), so each attempt is one
person; a blank "I don't know" is no answer.

**Scale.** A skill's difficulties are centred on its questions' answer-weighted mean:
b = 0 is the skill's average question as answered, b = 1 one logit harder. How hard the
skill itself is belongs to the skill model's guess and slip (``insights.bkt``), which
reads these difficulties as offsets from them; the diagnostic picks items by them
(``insights.diagnostic``).

`refresh_item_analysis` stores the results (insights.ItemAnalysisRun and its question rows)
from a worker; the admin reads only those rows, so no fit ever runs in a web request.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import transaction
from threadpoolctl import threadpool_limits

from assessments.models import Answer, Assessment, Question
from insights.models import ItemAnalysisRun, QuestionItemAnalysis
from insights.skills import BLANK_RESPONSE
from skillstudio.jobs import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

MIN_FIT_ANSWERS = 20
MIN_FLAG_ANSWERS = 10
MIN_DISTRACTOR_ANSWERS = 20
EASY_SHARE = 0.95
HARD_SHARE = 0.05
LABEL_DIFFICULTY = {"beginner": -1.0, "intermediate": 0.0, "advanced": 1.0}
# The two-class fit's prior on a difficulty: b ~ N(0, this). Questions on one skill seldom
# differ by more than a couple of logits (the 1PL difficulties of real first answers
# spread with a standard deviation of 1.01, README "Learner simulator"); on a skill nearly
# every learner knows, the few who do not carry the difficulties, and a weaker prior let
# them run to +-4.
DIFFICULTY_PRIOR_SD = 1.0


@dataclass(frozen=True)
class IRTFit:
    difficulty: np.ndarray
    iterations: int
    converged: bool


def fit_irt(
    responses: np.ndarray, *, nodes: int = 41, max_iter: int = 500, tol: float = 1e-5
) -> IRTFit:
    """Fit 1PL (Rasch) item difficulties to a persons x items 0/1 matrix (NaN = not
    answered).

    A weak prior (b ~ N(0, 3)) keeps estimates finite for items everyone gets right or
    wrong; with a few hundred answers per item it is negligible.
    """
    # The matrices are small: multi-threaded BLAS only adds contention (10x slower seen
    # on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_irt(responses, nodes=nodes, max_iter=max_iter, tol=tol)


def _answered(responses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A persons x items 0/1 matrix (NaN = not answered) as (answered, right), right 0
    where not answered."""
    x = np.asarray(responses, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError("Expected a persons x items matrix with at least one item.")
    observed = ~np.isnan(x)
    return observed, np.where(observed, x, 0.0)


def _fit_irt(responses: np.ndarray, *, nodes: int, max_iter: int, tol: float) -> IRTFit:
    # Imported inside the fit: web processes load this module for the admin and need
    # scipy only once an item analysis is actually fitted.
    from scipy.special import expit, logsumexp

    observed, correct = _answered(responses)
    theta = np.linspace(-4, 4, nodes)
    log_prior = -0.5 * theta**2
    log_prior -= logsumexp(log_prior)
    b = np.zeros(correct.shape[1])
    previous = -np.inf
    converged = False
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        # E-step: posterior over ability nodes for each person given current items.
        p = expit(theta[None, :] - b[:, None])  # items x nodes
        log_p, log_q = np.log(p), np.log1p(-p)
        loglik = correct @ log_p + (observed & (correct == 0)) @ log_q  # persons x nodes
        joint = loglik + log_prior
        marginal = logsumexp(joint, axis=1)
        posterior = np.exp(joint - marginal[:, None])
        expected_n = observed.T.astype(float) @ posterior  # items x nodes
        expected_r = correct.T @ posterior
        total = float(marginal.sum())
        b = _m_step(expected_r, expected_n, theta, b)
        if abs(total - previous) < tol * max(1.0, abs(total)):
            converged = True
            break
        previous = total
    return IRTFit(b, iteration, converged)


def _m_step(r: np.ndarray, n: np.ndarray, theta: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize
    from scipy.special import expit

    def objective(b_: np.ndarray) -> tuple[float, np.ndarray]:
        p = expit(theta[None, :] - b_[:, None])
        ll = np.sum(r * np.log(p + 1e-12) + (n - r) * np.log1p(-p + 1e-12))
        ll -= np.sum(b_**2) / (2 * 3.0**2)
        grad_b = -(r - n * p).sum(axis=1) - b_ / 3.0**2
        return -ll, -grad_b

    return minimize(objective, b, jac=True, method="L-BFGS-B").x


def fit_two_class(responses: np.ndarray, *, max_iter: int = 300, tol: float = 1e-6) -> np.ndarray:
    """Item difficulties under the skill model's own latent structure: each person knows
    the skill or does not (two classes, a share of them knowing), and a right
    answer on item i has probability sigmoid(class logit - b_i): the guess (not knowing) and
    1 - slip (knowing) of BKT, both moved by the item's difficulty (KT-IDEM). Fitted by EM
    on a persons x items 0/1 matrix (NaN = not answered), with b ~ N(0,
    ``DIFFICULTY_PRIOR_SD``).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_two_class(responses, max_iter=max_iter, tol=tol)


def _fit_two_class(responses: np.ndarray, *, max_iter: int, tol: float) -> np.ndarray:
    from scipy.optimize import minimize
    from scipy.special import expit, logsumexp

    observed, correct = _answered(responses)
    wrong = (observed & (correct == 0)).astype(float)
    # Logits of a right answer on an average question (b = 0): not knowing, knowing.
    logits, b, known = np.array([-2.0, 2.0]), np.zeros(correct.shape[1]), 0.5
    previous = -np.inf

    def objective(params: np.ndarray, r: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray]:
        class_logits, b_ = params[:2], params[2:]
        p = expit(class_logits[None, :] - b_[:, None])  # items x classes
        ll = np.sum(r * np.log(p + 1e-12) + (n - r) * np.log1p(-p + 1e-12))
        ll -= np.sum(b_**2) / (2 * DIFFICULTY_PRIOR_SD**2)
        resid = r - n * p
        grad = np.concatenate([resid.sum(axis=0), -resid.sum(axis=1) - b_ / DIFFICULTY_PRIOR_SD**2])
        return -ll, -grad

    for _ in range(max_iter):
        # E-step: each person's chance of knowing the skill given their answers.
        p = expit(logits[None, :] - b[:, None])
        joint = correct @ np.log(p) + wrong @ np.log1p(-p) + np.log([1 - known, known])
        marginal = logsumexp(joint, axis=1)
        posterior = np.exp(joint - marginal[:, None])  # persons x classes
        known = float(np.clip(posterior[:, 1].mean(), 1e-3, 1 - 1e-3))
        r, n = correct.T @ posterior, observed.T.astype(float) @ posterior
        start = np.concatenate([logits, b])
        solution = minimize(objective, start, args=(r, n), jac=True, method="L-BFGS-B").x
        logits, b = solution[:2], solution[2:]
        total = float(marginal.sum())
        if abs(total - previous) < tol * max(1.0, abs(total)):
            break
        previous = total
    return b


@dataclass
class ItemAnalysis:
    question_id: int
    label: str
    skill: str
    answers: int
    share_correct: float | None
    discrimination: float | None  # point-biserial
    irt_difficulty: float | None = None
    irt_discrimination: float | None = None
    irt_model: str = ""
    difficulty_predicted: bool = False
    difficulty_basis: str = ""
    distractors: list[dict] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


def point_biserial(item: np.ndarray, rest: np.ndarray) -> float | None:
    """Correlation of a 0/1 item score with the rest-of-test score (None if undefined)."""
    if len(item) < 3 or item.std() == 0 or rest.std() == 0:
        return None
    return float(np.corrcoef(item, rest)[0, 1])


def fit_skill(skill_id: int) -> dict[int, float]:
    """Question id -> difficulty, for every question on the skill with at least
    ``MIN_FIT_ANSWERS`` answers (module docstring: per skill, one person per attempt, two
    classes, centred). One query."""
    first: dict[tuple[int, int], bool] = {}
    for attempt_id, question_id, is_correct in (
        Answer.objects.filter(question__skill_id=skill_id, attempt__submitted_at__isnull=False)
        .exclude(BLANK_RESPONSE)
        .order_by("attempt_id", "id")
        .values_list("attempt_id", "question_id", "is_correct")
    ):
        first.setdefault((attempt_id, question_id), is_correct)
    answers = Counter(question_id for _, question_id in first)
    items = sorted(q for q, n in answers.items() if n >= MIN_FIT_ANSWERS)
    if not items:
        return {}
    column = {q: i for i, q in enumerate(items)}
    person = {a: j for j, a in enumerate(sorted({a for a, q in first if q in column}))}
    matrix = np.full((len(person), len(items)), np.nan)
    for (attempt_id, question_id), is_correct in first.items():
        if question_id in column:
            matrix[person[attempt_id], column[question_id]] = float(is_correct)
    difficulty = fit_two_class(matrix)
    centre = float(np.average(difficulty, weights=[answers[q] for q in items]))
    return {q: float(difficulty[i]) - centre for q, i in column.items()}


class SkillFits:
    """Each skill's fit, computed when first asked for: a refresh of many assessments
    fits a skill shared between them once."""

    def __init__(self) -> None:
        self._by_skill: dict[int, dict[int, float]] = {}

    def for_skills(self, skill_ids: Iterable[int]) -> dict[int, float]:
        """Question id -> fitted difficulty, for the questions on ``skill_ids``."""
        fits: dict[int, float] = {}
        for skill_id in sorted(set(skill_ids)):
            if skill_id not in self._by_skill:
                self._by_skill[skill_id] = fit_skill(skill_id)
            fits.update(self._by_skill[skill_id])
        return fits


def analyze_assessment(
    *, assessment: Assessment, skill_fits: SkillFits | None = None
) -> list[ItemAnalysis]:
    """Per-question analysis of an assessment: classical statistics from each learner's
    first submitted answers, IRT from its skills' fits (``skill_fits``, else fitted here).

    Three queries (questions with skills, their choices, the answers), plus one per skill
    not fitted yet.
    """
    questions = list(
        Question.objects.filter(assessment=assessment)
        .select_related("skill")
        .prefetch_related("choices")
        .order_by("order")
    )
    if not questions:
        return []
    index = {q.id: i for i, q in enumerate(questions)}
    rows = (
        Answer.objects.filter(question__in=questions, attempt__submitted_at__isnull=False)
        .order_by("attempt__submitted_at", "id")
        .values_list("attempt__learner_id", "question_id", "is_correct", "response")
    )
    first: dict[tuple[int, int], tuple[bool, dict]] = {}
    for learner_id, question_id, is_correct, response in rows:
        first.setdefault((learner_id, question_id), (is_correct, response or {}))
    learners = sorted({learner for learner, _ in first})
    person = {learner: j for j, learner in enumerate(learners)}
    matrix = np.full((len(learners), len(questions)), np.nan)
    picks: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for (learner_id, question_id), (is_correct, response) in first.items():
        matrix[person[learner_id], index[question_id]] = float(is_correct)
        for choice_id in response.get("choices", []) if isinstance(response, dict) else []:
            picks[question_id][choice_id] += 1

    observed = ~np.isnan(matrix)
    answered = np.where(observed, matrix, 0.0)
    # Rest score: share correct on the other questions the learner answered.
    totals, counts = answered.sum(axis=1), observed.sum(axis=1)
    results = []
    for i, q in enumerate(questions):
        mask = observed[:, i]
        item = matrix[mask, i]
        other = counts[mask] - 1
        rest = np.divide(
            totals[mask] - item, other, out=np.full(len(item), np.nan), where=other > 0
        )
        keep = ~np.isnan(rest)
        analysis = ItemAnalysis(
            question_id=q.id,
            label=str(q),
            skill=q.skill.name,
            answers=int(mask.sum()),
            share_correct=float(item.mean()) if len(item) else None,
            discrimination=point_biserial(item[keep], rest[keep]),
        )
        if q.has_choices:
            for choice in q.choices.all():
                count = picks[q.id].get(choice.id, 0)
                analysis.distractors.append(
                    {
                        "choice_id": choice.id,
                        "text": choice.text,
                        "is_correct": choice.is_correct,
                        "picked": count,
                        "share": count / analysis.answers if analysis.answers else None,
                    }
                )
        analysis.flags = _flags(analysis)
        results.append(analysis)
    fits = (skill_fits or SkillFits()).for_skills(q.skill_id for q in questions)
    _add_irt(results, questions, fits)
    return results


def _flags(item: ItemAnalysis) -> list[str]:
    flags = []
    if item.answers >= MIN_FLAG_ANSWERS:
        # Negative as shown (two decimals): "-0.00" is no warning sign.
        if item.discrimination is not None and round(item.discrimination, 2) < 0:
            # The problem only: the fix is worded once, in insights.instructor.suggested_flags.
            flags.append(
                f"negative discrimination ({item.discrimination:.2f}): stronger learners get it "
                "wrong more often"
            )
        if item.share_correct is not None and item.share_correct >= EASY_SHARE:
            flags.append(f"almost everyone answers correctly ({item.share_correct:.0%})")
        if item.share_correct is not None and item.share_correct <= HARD_SHARE:
            flags.append(f"almost nobody answers correctly ({item.share_correct:.0%})")
    if item.answers >= MIN_DISTRACTOR_ANSWERS:
        for d in item.distractors:
            if not d["is_correct"] and d["picked"] == 0:
                flags.append(f"distractor nobody picks: “{d['text']}”")
    return flags


def _add_irt(
    results: list[ItemAnalysis], questions: list[Question], fits: dict[int, float]
) -> None:
    fitted = []
    for q, r in zip(questions, results, strict=True):
        if q.id in fits:
            r.irt_model = QuestionItemAnalysis.IRTModel.TWO_CLASS
            r.irt_difficulty = fits[q.id]
            fitted.append((q, fits[q.id]))
    for i, r in enumerate(results):
        if r.irt_difficulty is not None:
            continue
        q = questions[i]
        # Difficulties are centred per skill: another skill's say nothing about this one.
        alike = [
            b
            for other, b in fitted
            if other.skill_id == q.skill_id and other.difficulty == q.difficulty
        ]
        if alike:
            r.irt_difficulty = float(np.mean(alike))
            r.difficulty_basis = (
                f"predicted from {len(alike)} fitted {q.difficulty} question(s) on {q.skill.name}"
            )
        else:
            r.irt_difficulty = LABEL_DIFFICULTY.get(q.difficulty, 0.0)
            r.difficulty_basis = f"predicted from its label ({q.difficulty})"
        r.difficulty_predicted = True


@dataclass
class RefreshReport:
    """Outcome of ``refresh_item_analysis``: one failed assessment never stops the others."""

    analysed: list[int] = field(default_factory=list)
    # assessment id -> error text (a bug or bad data for that assessment)
    failed: dict[int, str] = field(default_factory=dict)


def refresh_item_analysis(
    *,
    assessment_ids: Iterable[int] | None = None,
    now: datetime,
    on_result: Callable[[Assessment, ItemAnalysisRun | None, str], None] | None = None,
) -> RefreshReport:
    """Analyse assessments (all with questions, or the given ids) and store the results.

    Idempotent: each assessment has one run, whose question rows are replaced, in one
    transaction per assessment, so a reader sees the old analysis or the new one, never a
    mix. Reads are set-based: one query for the assessments, three per assessment
    (``analyze_assessment``). A transient database error propagates (the task retries);
    any other error is recorded for that assessment and the others go on.
    ``on_result(assessment, run, error)`` reports progress.
    """
    assessments = Assessment.objects.filter(questions__isnull=False).distinct().order_by("pk")
    if assessment_ids is not None:
        assessments = assessments.filter(pk__in=list(assessment_ids))
    report = RefreshReport()
    skill_fits = SkillFits()
    for assessment in assessments:
        run: ItemAnalysisRun | None = None
        error = ""
        try:
            items = analyze_assessment(assessment=assessment, skill_fits=skill_fits)
            run = store_item_analysis(assessment=assessment, items=items, now=now)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            report.failed[assessment.pk] = error
            logger.exception("Item analysis of assessment %s failed", assessment.pk)
        else:
            report.analysed.append(assessment.pk)
        if on_result is not None:
            on_result(assessment, run, error)
    return report


def store_item_analysis(
    *, assessment: Assessment, items: list[ItemAnalysis], now: datetime
) -> ItemAnalysisRun:
    """Replace the stored analysis of one assessment with ``items``, atomically."""
    with transaction.atomic():
        # One upsert: safe against a concurrent refresh of the same assessment.
        [run] = ItemAnalysisRun.objects.bulk_create(
            [
                ItemAnalysisRun(
                    assessment=assessment,
                    answers=sum(item.answers for item in items),
                    computed_at=now,
                )
            ],
            update_conflicts=True,
            unique_fields=["assessment"],
            update_fields=["answers", "computed_at"],
        )
        # Questions deleted since the answers were read are left out rather than failing.
        live = set(
            Question.objects.filter(pk__in=[i.question_id for i in items]).values_list(
                "pk", flat=True
            )
        )
        run.questions.all().delete()
        QuestionItemAnalysis.objects.bulk_create(
            QuestionItemAnalysis(
                run=run,
                question_id=item.question_id,
                answers=item.answers,
                share_correct=item.share_correct,
                discrimination=item.discrimination,
                irt_difficulty=item.irt_difficulty,
                irt_discrimination=item.irt_discrimination,
                irt_model=item.irt_model,
                difficulty_predicted=item.difficulty_predicted,
                difficulty_basis=item.difficulty_basis,
                distractors=item.distractors,
                flags=item.flags,
            )
            for item in items
            if item.question_id in live
        )
    return run
