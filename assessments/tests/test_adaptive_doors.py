"""Adaptive attempts and the unanswered warning through the page and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Answer, AssessmentAttempt, Choice, Question
from assessments.selectors import ADAPTIVE_ATTEMPT_SESSION_KEY, courses_demonstrated
from assessments.tests.adaptive import choice_for, make_bank
from assessments.tests.factories import AssessmentFactory, ChoiceFactory, QuestionFactory
from catalog.tests.factories import CourseFactory
from insights.tests.factories import LearnerSkillStateFactory, LearningPathSnapshotFactory
from learning.tests.factories import EnrollmentFactory, GoalSkillFactory, LearningGoalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return make_bank()


def _attempt_from(response) -> AssessmentAttempt:
    assert response.status_code == 302, response.content[:500]
    return AssessmentAttempt.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


# ------------------------------------------------------------------ page


def test_skill_check_page_asks_one_question_at_a_time_until_measured(client, learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])

    seen = []
    for number in range(1, 10):
        html = client.get(url).content.decode()
        attempt.refresh_from_db()
        if attempt.is_submitted:
            break
        assert f"Skill 1 of 1 · question {number}" in html
        question = Question.objects.get(pk=attempt.current_question_id)
        assert question.prompt in html
        assert "is_correct" not in html
        seen.append(question.pk)
        response = client.post(
            url,
            {"question": question.pk, f"q{question.pk}": choice_for(question.pk, True)},
        )
        assert response.status_code == 302
    assert len(seen) == 3 and len(set(seen)) == 3
    assert "Skill check: Python" in html
    assert "proficient" in html  # the result shows the state the check confirmed


def test_dont_know_and_a_stale_page_on_the_page(client, learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])
    first = attempt.current_question_id

    client.post(url, {"question": first, "dont_know": "1"})
    replay = client.post(url, {"question": first, f"q{first}": choice_for(first, True)})

    assert replay.status_code == 302
    answers = list(Answer.objects.filter(attempt=attempt))
    assert [(a.question_id, a.response) for a in answers] == [(first, {})]
    attempt.refresh_from_db()
    assert attempt.current_question_id not in (None, first)


def test_two_dont_knows_end_a_check_and_its_result_says_nothing_was_measured(
    client, as_user, learner, bank
):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])

    for _ in range(2):
        attempt.refresh_from_db()
        client.post(url, {"question": attempt.current_question_id, "dont_know": "1"})
    attempt.refresh_from_db()
    html = client.get(url).content.decode()

    assert attempt.is_submitted
    assert "<dd>Nothing measured</dd>" in html
    assert "You answered “I don't know” to every question, so nothing was measured" in html
    # What happened, not "0 of 0 answered correctly" (QA walk), in the page and the API.
    assert "<strong>None answered: all 2 left blank.</strong>" in html
    assert "0 of 0" not in html
    api = as_user(learner).get(f"/api/v1/attempts/{attempt.pk}/").json()
    assert api["answer_counts"]["summary"] == "none answered: all 2 left blank"
    assert api["skill_breakdown"]["python"]["answer_counts"]["summary"] == (
        "none answered: all 2 left blank"
    )
    # Each blank answer reads as what it is, not as a red "✗ Left blank · 0 / 1 point".
    assert html.count("<strong>“I don't know”</strong> · no evidence either way") == 2
    assert "✗ Left blank" not in html and "result-wrong" not in html


def test_a_malformed_page_answer_is_a_400_and_stores_nothing(client, learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    question = attempt.current_question_id

    response = client.post(
        reverse("assessments:attempt", args=[attempt.pk]),
        {"question": question, f"q{question}": "not-a-choice"},
    )

    assert response.status_code == 400
    assert not Answer.objects.filter(attempt=attempt).exists()


def test_adaptive_diagnostic_page_shows_skill_progress_for_the_goal(client, learner, bank):
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"])
    GoalSkillFactory(goal=goal, skill=bank["skills"]["sql"])
    client.force_login(learner)

    attempt = _attempt_from(client.post(reverse("assessments:start", args=[bank["diagnostic"].pk])))
    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "Skill 1 of 2 · question 1" in html
    assert "SQL: to come" in html


def test_a_diagnostic_left_half_way_is_the_first_thing_on_the_dashboard(
    client, learner, other_learner, bank
):
    """The QA walk: a learner who left the diagnostic after a few answers found nothing on
    the dashboard pointing back to it."""
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"])
    client.force_login(learner)
    dashboard = reverse("learning:dashboard")
    assert 'id="attempt-in-progress"' not in client.get(dashboard).content.decode()
    attempt = _attempt_from(client.post(reverse("assessments:start", args=[bank["diagnostic"].pk])))
    url = reverse("assessments:attempt", args=[attempt.pk])
    question = Question.objects.get(pk=attempt.current_question_id)
    client.post(url, {"question": question.pk, f"q{question.pk}": choice_for(question.pk, True)})

    html = client.get(dashboard).content.decode()

    assert "Continue where you left off" in html
    assert f'href="{url}">Continue {bank["diagnostic"].title}</a>' in html
    # Not on another learner's dashboard.
    client.force_login(other_learner)
    assert 'id="attempt-in-progress"' not in client.get(dashboard).content.decode()
    # Finished, it is gone.
    client.force_login(learner)
    for _ in range(12):
        attempt.refresh_from_db()
        if attempt.is_submitted:
            break
        question = Question.objects.get(pk=attempt.current_question_id)
        client.post(
            url, {"question": question.pk, f"q{question.pk}": choice_for(question.pk, True)}
        )
    assert attempt.is_submitted
    assert 'id="attempt-in-progress"' not in client.get(dashboard).content.decode()
    # Forgotten by the page that finished it: the dashboard reads nothing more.
    assert ADAPTIVE_ATTEMPT_SESSION_KEY not in client.session


def test_a_skill_check_or_challenge_url_opened_directly_explains_instead_of_405(
    client, learner, bank
):
    course = CourseFactory(skills=[bank["skills"]["python"]])
    check = reverse("assessments:skill_check", args=["python"])
    challenge = reverse("assessments:course_challenge", args=[course.pk])
    assert client.get(check).status_code == 302  # to log in
    client.force_login(learner)

    response = client.get(check, follow=True)

    assert response.redirect_chain[-1][0] == reverse("insights:progress")
    assert "starts from a button, not a link" in response.content.decode()
    response = client.get(challenge, follow=True)
    assert response.redirect_chain[-1][0] == course.get_absolute_url()
    assert "Start the course challenge with its button" in response.content.decode()
    assert not AssessmentAttempt.objects.filter(learner=learner).exists()


def test_course_page_offers_the_challenge_and_it_starts(client, learner, bank):
    course = CourseFactory(title="Backend basics", skills=[bank["skills"]["python"]])
    client.force_login(learner)

    page = client.get(course.get_absolute_url()).content.decode()
    attempt = _attempt_from(client.post(reverse("assessments:course_challenge", args=[course.pk])))

    assert "Take the course challenge" in page
    assert attempt.assessment.title == "Course challenge: Backend basics"
    assert attempt.adaptive_skills == [bank["skills"]["python"].pk]


def test_an_enrolled_learner_is_offered_the_challenge_too(client, learner, bank):
    """QA walk: once enrolled, the course page dropped the challenge button the redirect
    from the challenge URL points to ("Start the course challenge with its button")."""
    course = CourseFactory(title="Backend basics", skills=[bank["skills"]["python"]])
    EnrollmentFactory(learner=learner, course=course)
    client.force_login(learner)

    page = client.get(course.get_absolute_url()).content.decode()

    assert "Leave this course" in page
    assert "Take the course challenge" in page


def test_progress_page_offers_a_skill_check(client, learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])
    question = attempt.current_question_id
    # One right answer then "I don't know" until the check ends: familiar on one answer.
    client.post(url, {"question": question, f"q{question}": choice_for(question, True)})
    for _ in range(5):
        attempt.refresh_from_db()
        if attempt.is_submitted:
            break
        client.post(url, {"question": attempt.current_question_id, "dont_know": "1"})

    html = client.get(reverse("insights:progress")).content.decode()

    assert "take a skill check to confirm" in html
    assert reverse("assessments:skill_check", args=["python"]) in html


def test_page_ownership_and_anonymous(client, learner, other_learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])

    client.force_login(other_learner)
    assert client.get(url).status_code == 404
    assert client.post(url, {"question": attempt.current_question_id}).status_code == 404
    assert (
        client.post(reverse("assessments:skill_check", args=["no-such-skill"])).status_code == 404
    )
    client.logout()
    anonymous = client.post(reverse("assessments:skill_check", args=["python"]))
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert client.get(reverse("assessments:skill_check", args=["python"])).status_code in (302, 405)
    assert not Answer.objects.exists()


# ------------------------------------------------------------------ API


def test_api_skill_check_question_by_question(as_user, learner, bank):
    api = as_user(learner)

    started = api.post("/api/v1/attempts/skill-check/", {"skill": "python"}, format="json")
    assert started.status_code == 201
    body = started.json()
    assert body["questions"] == []
    assert body["adaptive"]["label"] == "Skill 1 of 1 · question 1"
    steps = 0
    while body["submitted_at"] is None:
        steps += 1
        assert steps < 10
        question = body["adaptive"]["current_question"]
        assert "is_correct" not in str(question)
        progress = api.get(f"/api/v1/attempts/{body['id']}/next-question/").json()
        assert progress["current_question"]["id"] == question["id"]
        response = api.post(
            f"/api/v1/attempts/{body['id']}/answer/",
            {
                "question": question["id"],
                "response": {"choices": [choice_for(question["id"], True)]},
            },
            format="json",
        )
        assert response.status_code == 200
        body = response.json()

    assert steps == 3
    assert body["adaptive"]["finished"] is True
    assert body["adaptive"]["skills"][0]["stop_reason"] == "known"
    assert body["skill_breakdown"]["python"]["state_after"] == "proficient"


def test_api_course_challenge_passed_records_the_course(as_user, learner, bank):
    course = CourseFactory(title="Backend basics", skills=[bank["skills"]["python"]])
    api = as_user(learner)

    body = api.post("/api/v1/attempts/course-challenge/", {"course": course.pk}, format="json")
    assert body.status_code == 201
    body = body.json()
    while body["submitted_at"] is None:
        question = body["adaptive"]["current_question"]["id"]
        body = api.post(
            f"/api/v1/attempts/{body['id']}/answer/",
            {"question": question, "response": {"choices": [choice_for(question, True)]}},
            format="json",
        ).json()

    assert body["passed"] is True
    assert list(courses_demonstrated(learner=learner)) == [course]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"question": "abc"},
        {"question": 0},
        {"question": "CURRENT", "response": "yes"},
        {"question": "CURRENT", "response": {"choices": ["x"]}},
        {"question": "OTHER"},
    ],
)
def test_api_bad_answers_are_400_and_store_nothing(as_user, learner, bank, payload):
    api = as_user(learner)
    attempt = api.post("/api/v1/attempts/skill-check/", {"skill": "python"}, format="json").json()
    current = attempt["adaptive"]["current_question"]["id"]
    other = Question.objects.exclude(pk=current).first().pk
    data = {
        k: (current if v == "CURRENT" else other if v == "OTHER" else v) for k, v in payload.items()
    }

    response = api.post(f"/api/v1/attempts/{attempt['id']}/answer/", data, format="json")

    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_api_bad_starts_are_400(as_user, learner, bank):
    api = as_user(learner)
    draft = CourseFactory(status="draft", skills=[bank["skills"]["python"]])

    assert (
        api.post("/api/v1/attempts/skill-check/", {"skill": "nope"}, format="json").status_code
        == 400
    )
    assert api.post("/api/v1/attempts/skill-check/", {}, format="json").status_code == 400
    response = api.post("/api/v1/attempts/course-challenge/", {"course": draft.pk}, format="json")
    assert response.status_code == 400
    classic = api.post("/api/v1/attempts/", {"assessment": bank["quiz"].pk}, format="json").json()
    assert api.get(f"/api/v1/attempts/{classic['id']}/next-question/").status_code == 400
    answer = api.post(f"/api/v1/attempts/{classic['id']}/answer/", {"question": 1}, format="json")
    assert answer.status_code == 400


def test_api_ownership_and_anonymous(api, as_user, learner, other_learner, bank):
    attempt = (
        as_user(learner)
        .post("/api/v1/attempts/skill-check/", {"skill": "python"}, format="json")
        .json()
    )
    question = attempt["adaptive"]["current_question"]["id"]

    other = as_user(other_learner)
    assert other.get(f"/api/v1/attempts/{attempt['id']}/next-question/").status_code == 404
    assert (
        other.post(
            f"/api/v1/attempts/{attempt['id']}/answer/", {"question": question}, format="json"
        ).status_code
        == 404
    )
    api.force_authenticate(None)
    assert api.post("/api/v1/attempts/skill-check/", {"skill": "python"}).status_code == 401
    assert api.get(f"/api/v1/attempts/{attempt['id']}/next-question/").status_code == 401
    assert not Answer.objects.exists()


# ------------------------------------------------------------------ unanswered warning


@pytest.fixture
def quiz():
    assessment = AssessmentFactory(passing_score=50)
    questions = []
    for order in (1, 2, 3):
        question = QuestionFactory(assessment=assessment, order=order)
        ChoiceFactory(question=question, text="Right", is_correct=True)
        ChoiceFactory(question=question, text="Wrong")
        questions.append(question)
    return assessment, questions


def test_page_asks_before_submitting_with_unanswered_questions(client, learner, quiz):
    assessment, questions = quiz
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:start", args=[assessment.pk])))
    url = reverse("assessments:attempt", args=[attempt.pk])
    first = questions[0]
    data = {f"q{first.pk}": first.choices.get(is_correct=True).pk}

    warned = client.post(url, data)

    html = warned.content.decode()
    assert warned.status_code == 200
    assert "2 of 3 questions unanswered (questions 2, 3)" in html
    assert "Submit anyway" in html
    # The warning comes before the first question and its button takes the focus on load,
    # so it is in sight at once (it used to sit below every question, out of view).
    warning = html.index('id="unanswered-warning"')
    assert warning < html.index('class="panel question"')
    assert 'role="alert"' in html[html.rindex("<div", 0, warning + 1) : warning + 60]
    assert 'value="1" autofocus>Submit anyway' in html
    # The answer given is kept in the form.
    assert html.count(" checked") == 1
    attempt.refresh_from_db()
    assert not attempt.is_submitted and not Answer.objects.exists()

    client.post(url, {**data, "submit_anyway": "1"})
    attempt.refresh_from_db()
    assert attempt.is_submitted
    assert Answer.objects.filter(attempt=attempt).count() == 3


def test_api_refuses_unanswered_unless_allowed(as_user, learner, quiz):
    assessment, questions = quiz
    api = as_user(learner)
    attempt = api.post("/api/v1/attempts/", {"assessment": assessment.pk}, format="json").json()
    url = f"/api/v1/attempts/{attempt['id']}/submit/"
    first = questions[0]
    responses = {str(first.pk): {"choices": [first.choices.get(is_correct=True).pk]}}

    refused = api.post(url, {"responses": responses}, format="json")
    assert refused.status_code == 400
    assert "2 of 3 questions unanswered" in str(refused.json())
    assert not Answer.objects.exists()

    accepted = api.post(url, {"responses": responses, "allow_unanswered": True}, format="json")
    assert accepted.status_code == 200
    assert accepted.json()["score"] == "33.33"


def _finish_on_the_page(client, attempt: AssessmentAttempt) -> str:
    """Answer right until the check stops; the result page's HTML."""
    url = reverse("assessments:attempt", args=[attempt.pk])
    for _ in range(12):
        attempt.refresh_from_db()
        if attempt.is_submitted:
            break
        question = attempt.current_question_id
        client.post(url, {"question": question, f"q{question}": choice_for(question, True)})
    assert attempt.is_submitted
    return client.get(url).content.decode()


def test_course_challenge_end_to_end_on_the_page(client, learner, bank):
    course = CourseFactory(title="Backend basics", skills=[bank["skills"]["python"]])
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:course_challenge", args=[course.pk])))

    html = _finish_on_the_page(client, attempt)

    assert "You tested out of" in html and "Backend basics" in html
    # Back to where the learner came from: the course, or the paths that suggest challenges.
    assert f'href="{course.get_absolute_url()}">Back to Backend basics</a>' in html
    assert f'href="{reverse("insights:paths")}">Your learning paths</a>' in html
    assert list(courses_demonstrated(learner=learner)) == [course]
    detail = client.get(reverse("assessments:detail", args=[attempt.assessment_id])).content
    assert b"One question at a time" in detail


def test_a_course_challenge_started_from_the_path_leads_back_to_the_path(
    client, learner, other_learner, bank
):
    """QA walk: "Test out first?" on the path page led, once passed, to the course and the
    list of paths, not to the path the challenge was offered on."""
    course = CourseFactory(title="Backend basics", skills=[bank["skills"]["python"]])
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"])
    path = reverse("insights:path", args=[goal.pk])
    start = reverse("assessments:course_challenge", args=[course.pk])
    client.force_login(learner)

    html = _finish_on_the_page(client, _attempt_from(client.post(start, {"goal": goal.pk})))

    assert f'<a href="{path}">Back to your path for “Backend developer”</a>' in html
    assert f'href="{course.get_absolute_url()}">Backend basics</a>' in html
    # Another learner's goal is no return address; a malformed one is a 400 that says why.
    client.force_login(other_learner)
    assert client.post(start, {"goal": goal.pk}).status_code == 404
    malformed = client.post(start, {"goal": "path"})
    assert malformed.status_code == 400
    assert malformed.content.decode() == "The goal to return to must be a goal id."
    assert not AssessmentAttempt.objects.filter(learner=other_learner).exists()


def test_authors_set_review_rules_and_adaptive_but_not_platform_kinds(as_user, instructor):
    api = as_user(instructor)

    created = api.post(
        "/api/v1/assessments/",
        {"title": "Placement", "kind": "diagnostic", "is_adaptive": True, "max_attempts": 2},
        format="json",
    )
    platform_kind = api.post(
        "/api/v1/assessments/", {"title": "Check", "kind": "skill_check"}, format="json"
    )

    assert created.status_code == 201, created.json()
    assert created.json()["is_adaptive"] is True
    assert created.json()["max_attempts"] == 2
    assert platform_kind.status_code == 400


@pytest.mark.parametrize("extra", [0, 30])
def test_adaptive_page_queries_do_not_grow_with_the_bank(
    client, learner, bank, extra, django_assert_max_num_queries
):
    python = bank["skills"]["python"]
    for order in range(extra):
        question = QuestionFactory(assessment=bank["quiz"], skill=python, order=100 + order)
        ChoiceFactory(question=question, text="Right", is_correct=True)
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))
    url = reverse("assessments:attempt", args=[attempt.pk])
    question = attempt.current_question_id
    client.post(url, {"question": question, f"q{question}": choice_for(question, True)})

    # Session and user, the attempt, the current question with its choices, then the
    # progress: the attempt's skills, its answers, the skill model's preview (states,
    # earlier answers, recent answers, model), stored states, the bank, its item
    # analyses and the learner's seen questions.
    with django_assert_max_num_queries(16):
        response = client.get(url)
    assert response.status_code == 200


def test_an_empty_answer_is_asked_again_not_taken_as_dont_know(client, learner, bank):
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))

    response = client.post(
        reverse("assessments:attempt", args=[attempt.pk]),
        {"question": attempt.current_question_id},
    )

    assert response.status_code == 400
    assert "Choose an answer, or use “I don&#x27;t know”." in response.content.decode()
    assert not Answer.objects.exists()


def test_skill_check_page_renders_the_prompt_and_choices_as_markdown(client, learner, bank):
    Question.objects.filter(skill__slug="python").update(prompt="What is `3 / 2` in Python 3?")
    Choice.objects.filter(question__skill__slug="python", is_correct=True).update(text="`1.5`")
    client.force_login(learner)
    attempt = _attempt_from(client.post(reverse("assessments:skill_check", args=["python"])))

    html = client.get(reverse("assessments:attempt", args=[attempt.pk])).content.decode()

    assert "<legend>What is <code>3 / 2</code> in Python 3?</legend>" in html
    assert "<span><code>1.5</code></span>" in html
    assert "`" not in html.split('id="adaptive-form"')[1]


def test_a_skill_check_started_from_the_path_leads_back_to_the_path(
    client, learner, other_learner, bank
):
    """QA walk (issue 13): "Check Python first?" on the path page led, once finished, back
    to the skill check's own page instead of the path it was offered on."""
    goal = LearningGoalFactory(learner=learner, title="Backend developer")
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"])
    path = reverse("insights:path", args=[goal.pk])
    start = reverse("assessments:skill_check", args=["python"])
    client.force_login(learner)

    html = _finish_on_the_page(client, _attempt_from(client.post(start, {"goal": goal.pk})))

    assert f'<a href="{path}">Back to your path for “Backend developer”</a>' in html
    assert "Back to the skill check" not in html
    # Started elsewhere (the progress page), today's links.
    html = _finish_on_the_page(client, _attempt_from(client.post(start)))
    assert "Back to the skill check" in html and path not in html
    # Another learner's goal is no return address; a malformed one is a 400.
    client.force_login(other_learner)
    assert client.post(start, {"goal": goal.pk}).status_code == 404
    assert client.post(start, {"goal": "path"}).status_code == 400
    assert not AssessmentAttempt.objects.filter(learner=other_learner).exists()
    client.logout()
    assert client.post(start, {"goal": goal.pk}).status_code == 302  # to the login page
    assert not AssessmentAttempt.objects.filter(learner=None).exists()


def test_the_path_page_offers_its_skill_checks_with_the_way_back(client, learner, bank):
    goal = LearningGoalFactory(learner=learner)
    GoalSkillFactory(goal=goal, skill=bank["skills"]["python"], target_level=7)
    LearnerSkillStateFactory(
        learner=learner,
        skill=bank["skills"]["python"],
        level=7,
        mastery=0.65,
        evidence_count=1,
        correct_count=1,
        distinct_questions=1,
    )
    course = CourseFactory(title="SQL Basics", estimated_hours=2)
    check = {"skill": "sql", "name": "SQL", "minutes": 6, "minutes_saved": 30, "reason": "Even"}
    LearningPathSnapshotFactory(
        goal=goal,
        items=[
            {
                "id": course.pk,
                "title": course.title,
                "slug": course.slug,
                "difficulty": "beginner",
                "estimated_hours": 2.0,
                "reason": "Builds foundation in SQL",
                "sequence": 1,
                "skill_checks": [check],
            }
        ],
    )
    client.force_login(learner)

    html = client.get(reverse("insights:path", args=[goal.pk])).content.decode()

    # "At your target level, not yet confirmed" (Python) and "Check SQL first?".
    for slug in ("python", "sql"):
        form = html.split(f'action="{reverse("assessments:skill_check", args=[slug])}"')[1]
        assert f'<input type="hidden" name="goal" value="{goal.pk}">' in form.split("</form>")[0]
