"""Assessment API shapes. Learner shapes never carry the answer key."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assessments.models import AUTHORED_KIND_CHOICES, Assessment, AssessmentAttempt, Question
from assessments.rules import answers_visible, skill_run_status
from assessments.selectors import assessments_visible_to, attempt_review
from assessments.services import attempt_adaptive_state, questions_for_learner
from catalog.models import Course, Lesson
from catalog.selectors import courses_editable_by, courses_visible_to
from catalog.serializers import SkillSlugField
from insights.diagnostic import SkillRun
from insights.progress import answer_counts, attempt_answer_counts


class LearnerChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()


class LearnerQuestionSerializer(serializers.Serializer):
    """A question as shown while answering: no is_correct, no answers, no explanation."""

    id = serializers.IntegerField()
    order = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    prompt = serializers.CharField()
    points = serializers.IntegerField()
    skill = serializers.CharField()
    skill_name = serializers.CharField()
    choices = LearnerChoiceSerializer(many=True)


class AssessmentSerializer(serializers.ModelSerializer):
    question_count = serializers.SerializerMethodField()
    owner = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    # Skill checks and course challenges are the platform's own: authors pick among these.
    kind = serializers.ChoiceField(
        choices=AUTHORED_KIND_CHOICES,
        default=Assessment.Kind.QUIZ,
    )

    class Meta:
        model = Assessment
        fields = [
            "id",
            "title",
            "kind",
            "description",
            "course",
            "lesson",
            "owner",
            "passing_score",
            "time_limit_minutes",
            "max_attempts",
            "min_minutes_between_attempts",
            "show_answers",
            "is_adaptive",
            "is_published",
            "question_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        extra_kwargs = {
            "passing_score": {"min_value": 0, "max_value": 100},
            "time_limit_minutes": {"min_value": 1, "max_value": 10000},
            "max_attempts": {"min_value": 1, "max_value": 1000},
            "min_minutes_between_attempts": {"min_value": 0, "max_value": 525600},
        }

    def get_fields(self) -> dict:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            # An author attaches assessments to courses they may edit, nothing else.
            editable = courses_editable_by(user=request.user)
            fields["course"].queryset = editable
            fields["lesson"].queryset = Lesson.objects.filter(module__course__in=editable)
        return fields

    def get_question_count(self, assessment: Assessment) -> int:
        # Lists annotate the count in their one query; a fresh object counts once.
        if hasattr(assessment, "question_count"):
            return assessment.question_count
        return assessment.questions.count()


class AssessmentDetailSerializer(AssessmentSerializer):
    questions = serializers.SerializerMethodField()

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "questions"]

    @extend_schema_field(LearnerQuestionSerializer(many=True))
    def get_questions(self, assessment: Assessment) -> list[dict]:
        return LearnerQuestionSerializer(
            questions_for_learner(assessment=assessment), many=True
        ).data


class ChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    text = serializers.CharField(max_length=500)
    is_correct = serializers.BooleanField(default=False)


class QuestionSerializer(serializers.ModelSerializer):
    """Authoring shape, answer key included (owner instructors and admins only)."""

    skill = SkillSlugField()
    choices = ChoiceSerializer(many=True, required=False)
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False
    )
    order = serializers.IntegerField(
        min_value=1, max_value=100000, required=False, help_text="Defaults to after the last one."
    )

    class Meta:
        model = Question
        fields = [
            "id",
            "assessment",
            "kind",
            "prompt",
            "skill",
            "difficulty",
            "points",
            "partial_credit",
            "order",
            "explanation",
            "numeric_answer",
            "numeric_tolerance",
            "accepted_answers",
            "choices",
        ]
        read_only_fields = ["assessment"]
        extra_kwargs = {
            "points": {"min_value": 1, "max_value": 1000},
            "numeric_tolerance": {"min_value": 0},
        }


class AttemptStartSerializer(serializers.Serializer):
    assessment = serializers.PrimaryKeyRelatedField(queryset=Assessment.objects.none())

    def get_fields(self) -> dict:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["assessment"].queryset = assessments_visible_to(user=request.user)
        return fields


class AttemptSubmitSerializer(serializers.Serializer):
    responses = serializers.DictField(
        child=serializers.DictField(),
        help_text=(
            "Question id -> response: {'choices': [id, …]} for choice questions, "
            "{'value': 3.14} for numeric, {'text': '…'} for short text; optional "
            "'seconds_spent'. Unanswered questions score zero."
        ),
    )
    allow_unanswered = serializers.BooleanField(
        default=False,
        help_text=(
            "Submit although some questions are left blank. Without it, such a submission "
            "is refused with 400 {'unanswered': ['N of M questions unanswered (…)']} and "
            "nothing is stored."
        ),
    )


class AttemptAnswerSerializer(serializers.Serializer):
    question = serializers.IntegerField(
        min_value=1, help_text="The id of the question being asked (adaptive.current_question)."
    )
    response = serializers.DictField(
        required=False,
        default=dict,
        help_text=(
            "As in submit: {'choices': [id, …]}, {'value': 3.14} or {'text': '…'}. "
            "Empty or left out: “I don't know” (no evidence; counts towards the skill's maximum)."
        ),
    )


class SkillCheckStartSerializer(serializers.Serializer):
    skill = SkillSlugField()


class CourseChallengeStartSerializer(serializers.Serializer):
    course = serializers.PrimaryKeyRelatedField(queryset=Course.objects.none())

    def get_fields(self) -> dict:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["course"].queryset = courses_visible_to(user=request.user)
        return fields


class SkillRunSerializer(serializers.Serializer):
    skill = serializers.CharField(source="slug")
    name = serializers.CharField()
    asked = serializers.IntegerField()
    answered = serializers.IntegerField(help_text="Asked minus “I don't know”.")
    mastery = serializers.FloatField(help_text="The skill model's current estimate.")
    stopped = serializers.BooleanField()
    stop_reason = serializers.CharField(
        allow_null=True, help_text="known | not_known | declined | maximum | no_questions, or null."
    )
    status = serializers.SerializerMethodField(
        help_text="As the page words it: “measured: you know it”, “1 answered, then you said "
        "you don't know the rest”, “in progress”, “to come”."
    )

    def get_status(self, run: SkillRun) -> str:
        return skill_run_status(run, self.context["progress"])


class AdaptiveProgressSerializer(serializers.Serializer):
    label = serializers.CharField(source="progress.label", help_text="“Skill 2 of 3 · question 3”.")
    skill_number = serializers.IntegerField(source="progress.skill_number")
    skill_count = serializers.SerializerMethodField()
    finished = serializers.BooleanField(source="progress.finished")
    skills = serializers.SerializerMethodField()
    current_question = LearnerQuestionSerializer(source="question", allow_null=True)

    def get_skill_count(self, state) -> int:
        return len(state.progress.runs)

    @extend_schema_field(SkillRunSerializer(many=True))
    def get_skills(self, state) -> list[dict]:
        progress = state.progress
        return SkillRunSerializer(progress.runs, many=True, context={"progress": progress}).data


class AnswerReviewSerializer(serializers.Serializer):
    question = serializers.IntegerField(source="question.id")
    prompt = serializers.CharField(source="question.prompt")
    skill = serializers.CharField(source="question.skill.slug")
    response = serializers.DictField()
    is_correct = serializers.BooleanField()
    points_awarded = serializers.DecimalField(max_digits=6, decimal_places=2)
    explanation = serializers.CharField()
    correct_choice_ids = serializers.ListField(child=serializers.IntegerField())
    correct_answer = serializers.CharField()
    your_answer = serializers.CharField(help_text="The learner's answer as text; empty if blank.")


class AnswerCountsSerializer(serializers.Serializer):
    """The README's rule for blank questions: no evidence, so "correct" is out of the
    answered ones and the blank ones are counted apart (``insights.progress.AnswerCounts``)."""

    questions = serializers.IntegerField()
    answered = serializers.IntegerField()
    correct = serializers.IntegerField(help_text="Answered correctly (blank ones never are).")
    blank = serializers.IntegerField(help_text="Left blank (or “I don't know”).")
    answered_percent = serializers.FloatField(
        allow_null=True, help_text="Correct share of the answered questions; null if none."
    )
    summary = serializers.CharField(
        help_text="As the result page says it: “1 of 2 answered correctly, 1 left blank”, "
        "or “none answered: all 2 left blank”."
    )


class SkillBreakdownSerializer(serializers.Serializer):
    skill = serializers.CharField()
    questions = serializers.IntegerField()
    # Questions actually answered; blank ones are no evidence for the skill model.
    answered = serializers.IntegerField(required=False)
    correct = serializers.IntegerField()
    percent = serializers.FloatField(
        help_text="Correct share of all the skill's questions, blank ones included "
        "(as the quiz score counts them); see answer_counts for the answered ones."
    )
    answer_counts = serializers.SerializerMethodField()
    # null: the skill was not assessed (before this attempt, or still after it).
    level_before = serializers.IntegerField(allow_null=True)
    level_after = serializers.IntegerField(allow_null=True)
    state_before = serializers.CharField(required=False)
    state_after = serializers.CharField(required=False)
    mastery = serializers.FloatField(allow_null=True)
    answers = serializers.IntegerField(required=False)
    distinct_questions = serializers.IntegerField(required=False)

    @extend_schema_field(AnswerCountsSerializer)
    def get_answer_counts(self, entry: dict) -> dict:
        return answer_counts(entry).as_dict()


class AttemptSerializer(serializers.ModelSerializer):
    assessment_title = serializers.CharField(source="assessment.title", read_only=True)
    passed = serializers.BooleanField(
        source="pass_result",
        allow_null=True,
        read_only=True,
        help_text="Whether the attempt passed: a quiz or exam against its passing score, a "
        "course challenge when every skill of the course ends proficient. null while open, "
        "and always for a diagnostic or skill check, which measure your levels and have no "
        "pass or fail.",
    )
    skill_breakdown = serializers.DictField(child=SkillBreakdownSerializer())
    answer_counts = serializers.SerializerMethodField(
        help_text="The whole attempt's questions, answered, correct and blank; null until "
        "its answers are processed."
    )

    class Meta:
        model = AssessmentAttempt
        fields = [
            "id",
            "learner",
            "assessment",
            "assessment_title",
            "started_at",
            "submitted_at",
            "score",
            "passed",
            "skill_breakdown",
            "answer_counts",
        ]
        read_only_fields = fields

    @extend_schema_field(AnswerCountsSerializer(allow_null=True))
    def get_answer_counts(self, attempt: AssessmentAttempt) -> dict | None:
        counts = attempt_answer_counts(breakdown=attempt.skill_breakdown)
        return None if counts is None else counts.as_dict()


class AttemptDetailSerializer(AttemptSerializer):
    """Questions (never the key) while open; answers with explanations once submitted."""

    questions = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    answers_shown = serializers.SerializerMethodField(
        help_text="Whether review carries the correct answers and explanations "
        "(the assessment's review rule)."
    )
    adaptive = serializers.SerializerMethodField(
        help_text="Adaptive attempts (diagnostic, skill check, course challenge): progress "
        "per skill and the question to answer next (POST answer); null otherwise."
    )

    class Meta(AttemptSerializer.Meta):
        fields = [
            *AttemptSerializer.Meta.fields,
            "questions",
            "review",
            "answers_shown",
            "adaptive",
        ]
        read_only_fields = fields

    @extend_schema_field(AdaptiveProgressSerializer(allow_null=True))
    def get_adaptive(self, attempt: AssessmentAttempt) -> dict | None:
        state = attempt_adaptive_state(attempt=attempt)
        return None if state is None else AdaptiveProgressSerializer(state).data

    @extend_schema_field(LearnerQuestionSerializer(many=True))
    def get_questions(self, attempt: AssessmentAttempt) -> list[dict]:
        # An adaptive attempt shows one question at a time (adaptive.current_question).
        if attempt.is_adaptive:
            return []
        return LearnerQuestionSerializer(
            questions_for_learner(assessment=attempt.assessment), many=True
        ).data

    def get_answers_shown(self, attempt: AssessmentAttempt) -> bool:
        return answers_visible(attempt=attempt)

    @extend_schema_field(AnswerReviewSerializer(many=True))
    def get_review(self, attempt: AssessmentAttempt) -> list[dict]:
        return AnswerReviewSerializer(attempt_review(attempt=attempt), many=True).data
