"""AI endpoint shapes: the seed report's JSON, documented for the OpenAPI schema.

The insights functions build these dicts; the serializers describe them (the
seed's keys are required, extra keys the engine adds are allowed).
"""

from __future__ import annotations

from rest_framework import serializers

from insights.models import LearningPathSnapshot, Recommendation


class PerformanceSummarySerializer(serializers.Serializer):
    lessons_completed = serializers.IntegerField()
    avg_quiz_score = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(
        help_text="Of the lessons started in the window, the share completed since (0-1; a "
        "skimmed lesson counts half)"
    )
    study_hours = serializers.FloatField(help_text="Time studied in the window, in hours")
    study_minutes = serializers.IntegerField(
        help_text="The same time in whole minutes (the page shows minutes under an hour)"
    )
    current_streak = serializers.IntegerField()
    performance_trend = serializers.CharField(help_text="improving, declining or stable")


class NextLessonSerializer(serializers.Serializer):
    lesson_id = serializers.IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField(help_text="e.g. “Next in sequence: Module 2 - Views”")
    estimated_minutes = serializers.IntegerField()


class RevisionSerializer(serializers.Serializer):
    lesson_id = serializers.IntegerField()
    title = serializers.CharField()
    skill = serializers.CharField()
    reason = serializers.CharField()
    lesson_completed = serializers.BooleanField(
        required=False, help_text="You completed this lesson: revising it is a review."
    )


class StrugglingTopicSerializer(serializers.Serializer):
    skill = serializers.CharField()
    avg_score = serializers.FloatField()
    difficulty = serializers.CharField(help_text="e.g. needs_help")


class NextStepSerializer(serializers.Serializer):
    kind = serializers.CharField(
        help_text=(
            "lesson (open it: GET url), skill_check (start it: POST url) or courses (the "
            "catalogue's courses teaching the skill, after a recent diagnostic, skill check or "
            "course challenge measured it: GET url)"
        )
    )
    skill = serializers.CharField(help_text="The weak topic's skill slug")
    title = serializers.CharField()
    url = serializers.CharField()


class AIInsightsSerializer(serializers.Serializer):
    learning_pace = serializers.CharField(help_text="ahead, on_track, behind or unknown")
    performance_trend = serializers.CharField()
    personalized_message = serializers.CharField()
    strengths = serializers.ListField(child=serializers.CharField())
    areas_for_improvement = serializers.ListField(child=serializers.CharField())
    study_recommendation = serializers.CharField(allow_blank=True)
    next_step = NextStepSerializer(
        allow_null=True,
        help_text="What personalized_message points at about weak topics, if anything",
    )


class GoalReferenceSerializer(serializers.Serializer):
    """A goal by id and title (the dashboard's current and achieved goals)."""

    id = serializers.IntegerField()
    title = serializers.CharField()


class StudyTipSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="Written by the tutor's language model.")
    numbers = serializers.DictField(
        help_text="The learner's figures the tip was written from (all that was sent)."
    )
    generated_at = serializers.DateTimeField()


class DashboardSerializer(serializers.Serializer):
    performance_summary = PerformanceSummarySerializer()
    current_goals = GoalReferenceSerializer(many=True)
    achieved_goals = GoalReferenceSerializer(
        many=True,
        help_text="The goals you marked achieved, the latest first (at most three).",
    )
    ended_goals = serializers.IntegerField(
        help_text="How many of your goals you achieved or abandoned: with no current goal, "
        "the next one you set is not your first."
    )
    recommended_next_lessons = NextLessonSerializer(many=True)
    next_lessons_note = serializers.CharField(
        help_text="Why recommended_next_lessons is empty for a learner enrolled in a course "
        "(every lesson left done, in a course tested out of, skippable, locked or set aside); "
        "empty otherwise."
    )
    revision_recommendations = RevisionSerializer(many=True)
    revision_note = serializers.CharField(
        help_text="When revision_recommendations is empty, why: each weak skill that waits "
        "(its lessons completed too recently to review, or studied since its last answers) by "
        "name; “Nothing to revise right now.” when none does. Empty otherwise."
    )
    struggling_topics = StrugglingTopicSerializer(many=True)
    ai_insights = AIInsightsSerializer()
    study_tip = StudyTipSerializer(
        required=False, help_text="Present only with a tutor provider, once a tip was written."
    )


class RecommendationSerializer(serializers.ModelSerializer):
    """A stored recommendation, with the card attributes the dashboard shows
    (`RecommendationCard`): what it is, its target's title and page."""

    kind_label = serializers.CharField(
        read_only=True,
        help_text="What the card is for: Next lesson, Course, Difficulty, Support; a revision "
        "card Review (a lesson you completed) or Study <skill> (one you have not).",
    )
    target_kind = serializers.CharField(
        read_only=True, help_text="lesson, course, assessment or empty"
    )
    title = serializers.CharField(read_only=True, help_text="the target's title, else the kind")
    url = serializers.CharField(read_only=True, help_text="the target's page; empty without one")

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "kind",
            "kind_label",
            "target_kind",
            "title",
            "url",
            "lesson",
            "course",
            "assessment",
            "reason",
            "score",
            "payload",
            "status",
            "shown_at",
            "acted_at",
            "expires_at",
            "created_at",
        ]
        read_only_fields = fields


class RecommendationActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accepted", "skipped", "ignored"])


class GoalQuerySerializer(serializers.Serializer):
    goal_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class PathChallengeSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(help_text="About how long the course challenge takes.")
    minutes_saved = serializers.IntegerField(
        help_text="Lesson minutes it is expected to spare (skills shown skip their lessons)."
    )
    reason = serializers.CharField()


class PathLessonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField()


class PathOptionalLessonSerializer(PathLessonSerializer):
    skills = serializers.ListField(child=serializers.CharField(), help_text="Skill slugs.")


class PathSkillCheckSerializer(PathChallengeSerializer):
    skill = serializers.CharField(help_text="Skill slug: POST attempts/skill-check with it.")
    name = serializers.CharField()


class PathItemSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    skills_covered = serializers.ListField(child=serializers.CharField())
    skill_names = serializers.ListField(child=serializers.CharField(), required=False)
    estimated_hours = serializers.FloatField(
        help_text="The course's stated hours, less the share of its lesson minutes the path "
        "leaves out (skip_lessons, optional_lessons, completed_outside)."
    )
    hours_note = serializers.CharField(
        required=False,
        help_text="How estimated_hours follow from the course's hours when lessons are left "
        "out, e.g. 4.3 h of the course's 20 h: the 1 of its 4 lessons the path asks for (30 of "
        "its 140 lesson minutes) and that share of its practice; empty for a whole course.",
    )
    reason = serializers.CharField()
    sequence = serializers.IntegerField()
    available = serializers.BooleanField(
        help_text="False when the course was unpublished after this version was planned: "
        "it cannot be opened; the next re-plan leaves it out."
    )
    done = serializers.BooleanField(
        help_text="True when you completed every lesson the path asks for in the course "
        "(its lessons less skip_lessons, optional_lessons and completed_outside)."
    )
    done_at = serializers.DateTimeField(
        allow_null=True, help_text="When: the last of those completions; null if not done."
    )
    hours_done = serializers.FloatField(
        help_text="Of estimated_hours, the share of the minutes of the lessons it asks for "
        "that you completed (metadata.progress adds them up)."
    )
    skip_lessons = PathLessonSerializer(
        many=True,
        required=False,
        help_text="Lessons whose skills you showed, e.g. reason Python proficient on 6 answers.",
    )
    optional_lessons = PathOptionalLessonSerializer(
        many=True,
        required=False,
        help_text="Lessons your goal does not need: they teach none of its skills and nothing "
        "the path asks for builds on them.",
    )
    completed_outside = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Ids of lessons your goal does not need that you already completed: done, "
        "so not listed as optional, and not counted in estimated_hours.",
    )
    challenge = PathChallengeSerializer(
        allow_null=True,
        required=False,
        help_text="Set when the path suggests the course challenge first (POST "
        "attempts/course-challenge with the course id); null otherwise.",
    )
    skill_checks = PathSkillCheckSerializer(
        many=True,
        required=False,
        help_text="Otherwise, a skill check first for each skill where one pays.",
    )


class PathSkippedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    reason = serializers.CharField(
        help_text="E.g. Skipped Python Fundamentals: Python proficient on 6 answers."
    )


class PathGapSerializer(serializers.Serializer):
    skill = serializers.CharField(help_text="The target skill's slug.")
    name = serializers.CharField()
    current_level = serializers.IntegerField(help_text="0 when not assessed.")
    target_level = serializers.IntegerField()
    summary = serializers.CharField(
        required=False,
        help_text="The gap in the path reasons' words: Python (level 3 of 7), SQL (not "
        "assessed, target 7), SQL (you answered “I don't know”, target 7), or for a level "
        "its state does not confirm, Python (level 8, familiar on 1 answer: not yet "
        "proficient).",
    )


class FinishedCourseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    hours = serializers.FloatField(help_text="The hours the path had planned for it.")


class PathProgressSerializer(serializers.Serializer):
    done_hours = serializers.FloatField(
        help_text="Each item's hours_done, plus the hours of finished_earlier."
    )
    total_hours = serializers.FloatField(
        help_text="total_hours of the current version, plus the hours of finished_earlier."
    )
    percent = serializers.FloatField(
        help_text="done_hours of total_hours: the dashboard's goal pace progress_percent."
    )
    finished_earlier = FinishedCourseSerializer(
        many=True,
        help_text="Courses an earlier version of this path planned that you completed since "
        "setting the goal: a re-plan leaves finished courses out, and they still count.",
    )
    text = serializers.CharField(
        help_text="The figure in the words the path page and the dashboard use, e.g. "
        "“7 of 14 h of the path done (50%)”."
    )


class PathMetadataSerializer(serializers.Serializer):
    total_courses = serializers.IntegerField()
    total_hours = serializers.FloatField()
    estimated_weeks = serializers.IntegerField()
    skills_covered = serializers.ListField(child=serializers.CharField())
    remaining_gaps = serializers.ListField(child=serializers.CharField())
    gaps = PathGapSerializer(many=True, help_text="The goal's targets not yet at their level.")
    skipped = PathSkippedSerializer(
        many=True, required=False, help_text="Courses left out because you showed you know them."
    )
    version = serializers.IntegerField()
    goal_id = serializers.IntegerField()
    unavailable = serializers.IntegerField(
        help_text="Items whose course was unpublished since planning (available false)."
    )
    left_path = PathSkippedSerializer(
        many=True,
        help_text="Courses this version dropped from the previous one on your evidence, e.g. "
        "reason Python proficient on 6 answers (a passed skill check or course challenge).",
    )
    done_courses = serializers.IntegerField(help_text="Items you finished (done true).")
    done_hours = serializers.FloatField(
        help_text="Hours done of the path's hours: progress.done_hours (lessons completed "
        "count as you complete them, not only whole courses)."
    )
    progress = PathProgressSerializer()
    created = serializers.BooleanField(
        required=False,
        help_text="Generate only: false when nothing changed (nothing written).",
    )
    message = serializers.CharField(required=False, help_text="Generate only: what happened.")


class LearningPathSerializer(serializers.Serializer):
    learning_path = PathItemSerializer(many=True)
    metadata = PathMetadataSerializer()


class PathVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = LearningPathSnapshot
        fields = [
            "id",
            "goal",
            "version",
            "trigger",
            "is_active",
            "change_summary",
            "changes",
            "items",
            "metadata",
            "created_at",
        ]
        read_only_fields = fields
