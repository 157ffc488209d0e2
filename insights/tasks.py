"""Insights tasks: thin wrappers (ids in, one insights function) run by Celery.

Each is idempotent, so a redelivered or re-sent message changes nothing:
the weekly adjustment records the ISO week it ran for, ``refresh_recommendations``
(``insights.recommendations.recommendations_refresh``, the one recommendation writer)
converges on the learner's current data. Base class, retries and outbox
bookkeeping: skillstudio.jobs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from assessments.models import Answer
from catalog.tutor_tips import study_tip_defer
from insights import skills, weekly
from insights.dashboard import (
    ACTIVE_DAYS,
    WARM_CHUNK,
    refresh_learner_dashboard,
    warm_fan_out,
    warm_run_chunk,
)
from insights.ml import dropout, irt, segments, training
from insights.models import MLModel
from insights.recommendations import recommendations_refresh
from insights.services import instructor_message_email
from skillstudio.jobs import JobTask, defer

logger = logging.getLogger(__name__)


def _moment(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else timezone.now()


@shared_task(base=JobTask, name="insights.adjust_learning_paths_weekly")
def adjust_learning_paths_weekly(now: str | None = None, chunk_size: int = 200) -> int:
    """Fan out: one ``adjust_learner_chunk`` job per chunk of active learners.

    Every chunk gets the same ``now`` (ISO 8601), so the whole run belongs to
    one ISO week even if it is retried across midnight. The chunks go through
    the outbox in one transaction: all are recorded or none, each is visible
    (and its progress) as a PendingJob, and a broker hiccup leaves them pending
    for the relay instead of failing the fan-out halfway.
    """
    moment = _moment(now)
    chunks = 0
    with transaction.atomic():
        for learner_ids in weekly.active_learner_ids(now=moment, chunk_size=chunk_size):
            defer("insights.adjust_learner_chunk", learner_ids=learner_ids, now=moment.isoformat())
            chunks += 1
    logger.info("Weekly adjustment for %s: %d chunk(s) queued", weekly.iso_week(moment), chunks)
    return chunks


@shared_task(base=JobTask, bind=True, name="insights.adjust_learner_chunk")
def adjust_learner_chunk(self: JobTask, learner_ids: list[int], now: str) -> dict[str, int]:
    """Adjust the chunk set-based (``weekly.adjust_chunk``); one failure never stops the others.

    Learners that hit a transient error are retried (only them, with backoff); a chunk
    interrupted before its commit is redone when redelivered, and the learners it already
    committed are a no-op.
    """
    report = weekly.adjust_chunk(learner_ids=learner_ids, now=_moment(now))
    if report.transient:
        raise self.retry(
            kwargs={"learner_ids": report.transient, "now": now},
            countdown=min(300, 2 ** (self.request.retries + 1)),
        )
    return {"adjusted": len(report.succeeded), "failed": len(report.failed)}


@shared_task(base=JobTask, name="insights.refresh_recommendations")
def refresh_recommendations(learner_id: int) -> int:
    """The learner follow-up (``skillstudio.jobs.LEARNER_FOLLOW_UP``), deferred by every
    learner write (sign-up, onboarding, a quiz, a completed lesson, ...): struggle check and
    fresh recommendations, then the learner's dashboard built ahead of their next visit
    (the write and this refresh both moved their data versions on, so the cached one is
    unreachable), from the sections still valid. Returns how many recommendations are
    active."""
    refreshed = recommendations_refresh(learner_ids=[learner_id], now=timezone.now())
    if learner_id not in refreshed:
        logger.info("Learner %s is gone; nothing to refresh", learner_id)
        return 0
    refresh_learner_dashboard(learner_id=learner_id, now=timezone.now())
    # The tutor's study tip reads the figures just warmed; queued only with a provider.
    study_tip_defer(learner_id=learner_id)
    return refreshed[learner_id].active


@shared_task(base=JobTask, name="insights.warm_dashboards")
def warm_dashboards_task(
    now: str | None = None, days: int = ACTIVE_DAYS, chunk_size: int = WARM_CHUNK
) -> dict[str, int | str]:
    """Every few minutes (dashboard.WARM_PERIOD): fan out the dashboards of recently active
    learners, computed ahead of their reads, in ``warm_dashboard_chunk`` jobs
    (``dashboard.warm_fan_out``).

    Idempotent: the chunks recompute and overwrite entries; a run while the previous one's
    chunks are still in progress queues nothing.
    """
    fan_out = warm_fan_out(now=_moment(now) if now else None, days=days, chunk_size=chunk_size)
    if fan_out.stopped:
        logger.info("Dashboard warm: %s", fan_out.stopped)
    return {
        "learners": fan_out.learners,
        "chunks": fan_out.chunks,
        "run": fan_out.run,
        "stopped": fan_out.stopped,
    }


@shared_task(base=JobTask, name="insights.warm_dashboard_chunk")
def warm_dashboard_chunk(
    learner_ids: list[int], run: str, now: str | None = None
) -> dict[str, int | str]:
    """One chunk of a warm run (``dashboard.warm_run_chunk``); a learner's failure costs
    only that learner's entries. Idempotent: it recomputes and overwrites."""
    report = warm_run_chunk(learner_ids=learner_ids, run=run, now=_moment(now))
    return {"stored": report.stored, "failed": len(report.failed), "stopped": report.stopped}


@shared_task(base=JobTask, name="insights.refit_skill_model")
def refit_skill_model(min_answers: int = 50) -> int | None:
    """Weekly: fit the BKT skill model on all answers and activate it as a new version.

    Returns the new version, or None when there was nothing new to fit.
    """
    if _active_model_covers_all_answers():
        logger.info("Skill model is current: no answers since the active version")
        return None
    try:
        fitted = skills.fit_skill_parameters(min_answers=min_answers)
    except skills.SkillModelError as exc:
        logger.info("Skill model not fitted: %s", exc)
        return None
    return skills.skill_model_store(fitted=fitted, now=timezone.now()).version


def _active_model_covers_all_answers() -> bool:
    # What makes the re-fit idempotent: a redelivered message (or a week without
    # new answers) would fit the same data again and store a needless version.
    active = MLModel.objects.filter(name=skills.MODEL_NAME, is_active=True).first()
    if active is None:
        return False
    answers = Answer.objects.filter(attempt__submitted_at__isnull=False).aggregate(
        count=Count("pk"), latest=Max("answered_at")
    )
    return (
        # Versions fitted before blank answers were left out only stored "answers".
        active.metrics.get("answer_rows", active.metrics.get("answers")) == answers["count"]
        and active.training_window_end == answers["latest"]
    )


@shared_task(base=JobTask, name="insights.score_dropout_risk")
def score_dropout_risk(now: str | None = None) -> dict[str, int | None]:
    """Nightly: dropout risk for every active enrollment; support for high risks; and the
    stored segment of every learner with an active enrollment (read by insights messages).

    Idempotent: risks are upserted per enrollment, the recommendation writer keeps one
    active support card per learner and course, segments are overwritten.
    """
    moment = _moment(now)
    summary = dropout.score_active_enrollments(now=moment)
    logger.info("Dropout scoring: %s", summary)
    segmented = segments.assign_active_learners(now=moment)
    logger.info("Segments stored: %s", segmented)
    return {
        "model_version": summary.model_version,
        "scored": summary.scored,
        "high": summary.high,
        "support_recommendations": summary.support_recommendations,
        "segments_model_version": segmented.model_version,
        "segmented": segmented.learners,
    }


@shared_task(base=JobTask, name="insights.train_predictive_models")
def train_predictive_models(names: list[str] | None = None) -> dict[str, int | None]:
    """Weekly: re-fit the predictive models and activate the new versions.

    A model whose data cannot support a fit (e.g. no finished enrollments yet) is skipped
    with the reason logged; the others still train. Re-running stores another version of
    the same fit, which serves the same predictions.
    """
    versions: dict[str, int | None] = {}
    for name in names or sorted(training.TRAINERS):
        try:
            versions[name] = training.train_model(name=name, now=timezone.now()).version
        except ValueError as exc:
            logger.info("%s not trained: %s", name, exc)
            versions[name] = None
    return versions


@shared_task(base=JobTask, name="insights.refresh_item_analysis")
def refresh_item_analysis(
    assessment_ids: list[int] | None = None, now: str | None = None
) -> dict[str, int]:
    """Nightly (all assessments) or on an instructor's request (their ids): fit and store the
    item analysis the admin shows.

    Idempotent: each assessment's stored run is replaced, never duplicated.
    """
    report = irt.refresh_item_analysis(assessment_ids=assessment_ids, now=_moment(now))
    logger.info(
        "Item analysis: %d assessment(s) analysed, %d failed",
        len(report.analysed),
        len(report.failed),
    )
    return {"analysed": len(report.analysed), "failed": len(report.failed)}


@shared_task(base=JobTask, name="insights.email_instructor_message")
def email_instructor_message(message_id: int) -> bool:
    """E-mail an instructor's message to its learner (deferred by instructor_message_send);
    sends at most once however often it is delivered."""
    return instructor_message_email(message_id=message_id, now=timezone.now())
