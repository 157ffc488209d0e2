"""REST API: OpenAPI schema, offline Swagger UI and the v1 endpoints."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from accounts import api as accounts_api
from assessments import api as assessments_api
from catalog import api as catalog_api
from insights import api as insights_api
from learning import api as learning_api
from skillstudio.api_errors import ApiNotFoundView

router = SimpleRouter()
router.register("courses", catalog_api.CourseViewSet, basename="course")
router.register(r"courses/(?P<course_id>\d+)/modules", catalog_api.ModuleViewSet, basename="module")
router.register(
    r"courses/(?P<course_id>\d+)/modules/(?P<module_id>\d+)/lessons",
    catalog_api.LessonViewSet,
    basename="lesson",
)
router.register("learning/goals", learning_api.GoalViewSet, basename="goal")
router.register("learning/enrollments", learning_api.EnrollmentViewSet, basename="enrollment")
router.register("learning/progress", learning_api.LessonProgressViewSet, basename="progress")
router.register("assessments", assessments_api.AssessmentViewSet, basename="assessment")
router.register(
    r"assessments/(?P<assessment_id>\d+)/questions",
    assessments_api.QuestionViewSet,
    basename="question",
)
router.register("attempts", assessments_api.AttemptViewSet, basename="attempt")

v1 = [
    path("auth/register", accounts_api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", accounts_api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", accounts_api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", accounts_api.LogoutView.as_view(), name="auth-logout"),
    path(
        "auth/password-reset",
        accounts_api.PasswordResetRequestView.as_view(),
        name="auth-password-reset",
    ),
    path(
        "auth/password-reset/confirm",
        accounts_api.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("profile", accounts_api.ProfileView.as_view(), name="profile"),
    path("profile/export", accounts_api.ProfileExportView.as_view(), name="profile-export"),
    path("profile/profiling", accounts_api.ProfilingView.as_view(), name="profile-profiling"),
    path("profile/erasure", accounts_api.ErasureView.as_view(), name="profile-erasure"),
    path(
        "profile/export/<str:token>",
        accounts_api.ProfileExportDownloadView.as_view(),
        name="profile-export-download",
    ),
    path("skills", catalog_api.SkillListView.as_view(), name="skill-list"),
    path("search", catalog_api.CatalogSearchView.as_view(), name="catalog-search"),
    path(
        "lessons/<int:lesson_id>/related",
        catalog_api.RelatedLessonsView.as_view(),
        name="lesson-related",
    ),
    path("lessons/<int:lesson_id>/ask", catalog_api.LessonAskView.as_view(), name="lesson-ask"),
    path(
        "lessons/<int:lesson_id>/tutor",
        catalog_api.LessonTutorView.as_view(),
        name="lesson-tutor",
    ),
    path(
        "learning/lessons/<int:lesson_id>/start",
        learning_api.LessonStartView.as_view(),
        name="lesson-start",
    ),
    path(
        "learning/lessons/<int:lesson_id>/complete",
        learning_api.LessonCompleteView.as_view(),
        name="lesson-complete",
    ),
    path(
        "learning/lessons/<int:lesson_id>/position",
        learning_api.LessonPositionView.as_view(),
        name="lesson-position",
    ),
    path("learning/events", learning_api.EventBatchView.as_view(), name="event-batch"),
    path("ai/dashboard", insights_api.DashboardView.as_view(), name="ai-dashboard"),
    path(
        "ai/recommendations",
        insights_api.RecommendationListView.as_view(),
        name="ai-recommendations",
    ),
    path(
        "ai/recommendations/<int:pk>/action",
        insights_api.RecommendationActionView.as_view(),
        name="ai-recommendation-action",
    ),
    path("ai/learning-path", insights_api.LearningPathView.as_view(), name="ai-learning-path"),
    path(
        "ai/generate-learning-path",
        insights_api.GenerateLearningPathView.as_view(),
        name="ai-generate-learning-path",
    ),
    path(
        "ai/learning-path/history",
        insights_api.LearningPathHistoryView.as_view(),
        name="ai-learning-path-history",
    ),
    path("ml/", include("insights.ml_urls")),
    *router.urls,
    # Last: anything else under v1/ (newlines included) is a JSON 404.
    re_path(r"^[\s\S]*$", ApiNotFoundView.as_view(), name="not-found"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's page boots with an inline script and style: allowed on this page only.
    path(
        "docs/",
        csp_update({"script-src": [UNSAFE_INLINE], "style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    path("v1/", include((v1, "api"), namespace="api-v1")),
]
