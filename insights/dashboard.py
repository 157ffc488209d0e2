"""The learner dashboard: the seed's JSON shape, gathered in a bounded number of queries.

Each building block aggregates in SQL or reads catalogue-sized rows, and the blocks share the
learner's skill levels, recent scores and skips, so the query count does not depend on how
many answers, events or lessons the learner has behind them.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from insights.analytics import (
    active_goals,
    build_insights,
    engagement_patterns,
    goal_paces,
    performance_summary,
    topics_from_scores,
)
from insights.ml.segments import segment_entry
from insights.models import Recommendation
from insights.recommendations import difficulty_advice, next_lessons, revision_lessons
from insights.selectors import recent_skill_scores, recently_skipped, skill_levels

RECOMMENDATION_CARDS = 10
STRUGGLING_THRESHOLD = 60


def _target(rec: Recommendation) -> dict:
    if rec.lesson_id:
        return {"type": "lesson", "id": rec.lesson_id, "title": rec.lesson.title}
    if rec.course_id:
        return {"type": "course", "id": rec.course_id, "title": rec.course.title}
    return {"type": None, "id": None, "title": None}


def learner_dashboard(*, learner: User, now: datetime) -> dict:
    """Everything the dashboard shows, as plain JSON-ready data."""
    levels = skill_levels(learner=learner)
    scores = recent_skill_scores(learner=learner)
    skipped = recently_skipped(learner=learner, now=now)
    summary = performance_summary(learner=learner, now=now)
    patterns = engagement_patterns(learner=learner, now=now)
    topics = topics_from_scores(scores, STRUGGLING_THRESHOLD)
    goals = active_goals(learner=learner)
    paces = goal_paces(learner=learner, goals=goals, now=now)
    insights = build_insights(
        summary=summary,
        topics=topics,
        patterns=patterns,
        paces=list(paces.values()),
        segment=segment_entry(learner=learner, now=now),
    )
    cards = (
        Recommendation.objects.filter(learner=learner, status=Recommendation.Status.ACTIVE)
        .select_related("lesson", "course")
        .order_by("-score", "id")[:RECOMMENDATION_CARDS]
    )
    return {
        "performance_summary": summary.as_dict(),
        "current_goals": [
            {
                "id": goal.pk,
                "title": goal.title,
                "deadline": goal.deadline.isoformat() if goal.deadline else None,
                "weekly_hours": float(goal.weekly_hours),
                "target_skills": [
                    {
                        "skill": target.skill.slug,
                        "name": target.skill.name,
                        "target_level": target.target_level,
                        "current_level": levels[target.skill.slug].level
                        if target.skill.slug in levels
                        else None,
                    }
                    for target in goal.target_skills.all()
                ],
                "pace": paces[goal.pk].as_dict(),
            }
            for goal in goals
        ],
        "recommended_next_lessons": [
            item.as_dict() for item in next_lessons(learner=learner, now=now, skipped=skipped)
        ],
        "revision_recommendations": [
            item.as_dict()
            for item in revision_lessons(
                learner=learner, now=now, scores=scores, levels=levels, skipped=skipped
            )
        ],
        "struggling_topics": [topic.as_dict() for topic in topics],
        "ai_insights": insights.as_dict(),
        "streak": summary.current_streak,
        "engagement": patterns.as_dict(),
        "difficulty": difficulty_advice(learner=learner, now=now).as_dict(),
        "recommendations": [
            {
                "id": rec.pk,
                "kind": rec.kind,
                "reason": rec.reason,
                "score": rec.score,
                "target": _target(rec),
            }
            for rec in cards
        ],
        "skill_levels": {slug: level.level for slug, level in sorted(levels.items())},
        "generated_at": now.isoformat(),
    }
