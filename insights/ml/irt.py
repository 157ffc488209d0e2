"""Item analysis for instructors: classical statistics, IRT fit and broken-question flags.

- share correct and point-biserial discrimination (item score vs. the rest of the test);
- item response theory, fitted by marginal maximum likelihood (Bock-Aitkin EM over a
  normal ability distribution on a fixed quadrature grid): 2PL (discrimination a and
  difficulty b per question) when every question has at least `MIN_2PL_ANSWERS` answers,
  otherwise 1PL (a = 1, only b), which needs far less data;
- questions with fewer than `MIN_FIT_ANSWERS` answers get a *predicted* difficulty from
  fitted questions on the same skill (or, failing that, with the same difficulty label)
  in the assessment, marked as predicted.

`refresh_item_analysis` stores the results (insights.ItemAnalysisRun and its question rows)
from a worker; the admin reads only those rows, so no fit ever runs in a web request.

Ability and difficulty are on the usual logit scale: b = 0 is a question an average
learner gets right half the time; b = 1.5 is hard, b = -1.5 easy.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.db import transaction
from threadpoolctl import threadpool_limits

from assessments.models import Answer, Assessment, Question
from insights.models import ItemAnalysisRun, QuestionItemAnalysis
from skillstudio.jobs import TRANSIENT_ERRORS

logger = logging.getLogger(__name__)

MIN_FIT_ANSWERS = 20
MIN_2PL_ANSWERS = 200
MIN_FLAG_ANSWERS = 10
MIN_DISTRACTOR_ANSWERS = 20
EASY_SHARE = 0.95
HARD_SHARE = 0.05
LABEL_DIFFICULTY = {"beginner": -1.0, "intermediate": 0.0, "advanced": 1.0}


@dataclass(frozen=True)
class IRTFit:
    model: str  # "2pl" or "1pl"
    discrimination: np.ndarray
    difficulty: np.ndarray
    iterations: int
    converged: bool


def fit_irt(
    responses: np.ndarray,
    *,
    model: str = "2pl",
    nodes: int = 41,
    max_iter: int = 500,
    tol: float = 1e-5,
) -> IRTFit:
    """Fit 1PL/2PL item parameters to a persons x items 0/1 matrix (NaN = not answered).

    Weak priors (b ~ N(0, 3), a ~ N(1, 2)) keep estimates finite for items everyone gets
    right or wrong; with a few hundred answers per item they are negligible.
    """
    # The matrices are small: multi-threaded BLAS only adds contention (10x slower seen
    # on a busy 2-core machine).
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_irt(responses, model=model, nodes=nodes, max_iter=max_iter, tol=tol)


def _fit_irt(responses: np.ndarray, *, model: str, nodes: int, max_iter: int, tol: float) -> IRTFit:
    # Imported inside the fit: web processes load this module for the admin and need
    # scipy only once an item analysis is actually fitted.
    from scipy.special import expit, logsumexp

    if model not in ("1pl", "2pl"):
        raise ValueError(f"Unknown IRT model {model!r} (1pl or 2pl).")
    x = np.asarray(responses, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise ValueError("Expected a persons x items matrix with at least one item.")
    observed = ~np.isnan(x)
    correct = np.where(observed, x, 0.0)
    theta = np.linspace(-4, 4, nodes)
    log_prior = -0.5 * theta**2
    log_prior -= logsumexp(log_prior)
    n_items = x.shape[1]
    a = np.ones(n_items)
    b = np.zeros(n_items)
    previous = -np.inf
    converged = False
    iteration = 0
    while iteration < max_iter:
        iteration += 1
        # E-step: posterior over ability nodes for each person given current items.
        p = expit(a[:, None] * (theta[None, :] - b[:, None]))  # items x nodes
        log_p, log_q = np.log(p), np.log1p(-p)
        loglik = correct @ log_p + (observed & (correct == 0)) @ log_q  # persons x nodes
        joint = loglik + log_prior
        marginal = logsumexp(joint, axis=1)
        posterior = np.exp(joint - marginal[:, None])
        expected_n = observed.T.astype(float) @ posterior  # items x nodes
        expected_r = correct.T @ posterior
        total = float(marginal.sum())
        a, b = _m_step(expected_r, expected_n, theta, a, b, model)
        if abs(total - previous) < tol * max(1.0, abs(total)):
            converged = True
            break
        previous = total
    return IRTFit(model, a, b, iteration, converged)


def _m_step(
    r: np.ndarray, n: np.ndarray, theta: np.ndarray, a: np.ndarray, b: np.ndarray, model: str
) -> tuple[np.ndarray, np.ndarray]:
    from scipy.optimize import minimize
    from scipy.special import expit

    n_items = len(b)

    def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
        if model == "2pl":
            a_, b_ = params[:n_items], params[n_items:]
        else:
            a_, b_ = np.ones(n_items), params
        z = a_[:, None] * (theta[None, :] - b_[:, None])
        p = expit(z)
        ll = np.sum(r * np.log(p + 1e-12) + (n - r) * np.log1p(-p + 1e-12))
        ll -= np.sum(b_**2) / (2 * 3.0**2)
        resid = r - n * p
        grad_b = -(a_ * resid.sum(axis=1)) - b_ / 3.0**2
        if model == "2pl":
            ll -= np.sum((a_ - 1) ** 2) / (2 * 2.0**2)
            grad_a = (resid * (theta[None, :] - b_[:, None])).sum(axis=1) - (a_ - 1) / 2.0**2
            return -ll, -np.concatenate([grad_a, grad_b])
        return -ll, -grad_b

    start = np.concatenate([a, b]) if model == "2pl" else b
    result = minimize(objective, start, jac=True, method="L-BFGS-B")
    if model == "2pl":
        return result.x[:n_items], result.x[n_items:]
    return np.ones(n_items), result.x


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


def analyze_assessment(*, assessment: Assessment) -> list[ItemAnalysis]:
    """Per-question analysis of an assessment from each learner's first submitted answers.

    Three queries: questions with skills, their choices, the answers.
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
    _add_irt(results, questions, matrix)
    return results


def _flags(item: ItemAnalysis) -> list[str]:
    flags = []
    if item.answers >= MIN_FLAG_ANSWERS:
        if item.discrimination is not None and item.discrimination < 0:
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


def _add_irt(results: list[ItemAnalysis], questions: list[Question], matrix: np.ndarray) -> None:
    fit_cols = [i for i, r in enumerate(results) if r.answers >= MIN_FIT_ANSWERS]
    if fit_cols:
        sub = matrix[:, fit_cols]
        sub = sub[~np.isnan(sub).all(axis=1)]
        thick = min(results[i].answers for i in fit_cols) >= MIN_2PL_ANSWERS
        fit = fit_irt(sub, model="2pl" if thick else "1pl")
        for k, i in enumerate(fit_cols):
            results[i].irt_model = fit.model
            results[i].irt_difficulty = float(fit.difficulty[k])
            results[i].irt_discrimination = float(fit.discrimination[k])
    fitted = [(questions[i], results[i].irt_difficulty) for i in fit_cols]
    for i, r in enumerate(results):
        if r.irt_difficulty is not None:
            continue
        q = questions[i]
        same_skill = [b for other, b in fitted if other.skill_id == q.skill_id]
        same_label = [b for other, b in fitted if other.difficulty == q.difficulty]
        if same_skill:
            r.irt_difficulty = float(np.mean(same_skill))
            r.difficulty_basis = (
                f"predicted from {len(same_skill)} fitted question(s) on {q.skill.name}"
            )
        elif same_label:
            r.irt_difficulty = float(np.mean(same_label))
            r.difficulty_basis = (
                f"predicted from {len(same_label)} fitted {q.difficulty} question(s)"
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
    for assessment in assessments:
        run: ItemAnalysisRun | None = None
        error = ""
        try:
            run = store_item_analysis(
                assessment=assessment, items=analyze_assessment(assessment=assessment), now=now
            )
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
