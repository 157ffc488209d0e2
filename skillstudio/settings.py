"""SkillStudio settings: one module, driven by environment variables.

Secure by default: DEBUG is off unless asked for, and without DEBUG a real
SECRET_KEY must be supplied. `python -m skillstudio.devstack` fills in
DATABASE_URL / REDIS_URL for project-local servers and records them in
`.devstack/env`, which is read here (real environment variables win).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
if (BASE_DIR / ".devstack" / "env").exists():
    environ.Env.read_env(BASE_DIR / ".devstack" / "env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true for local development).")
    SECRET_KEY = "insecure-development-key-only-used-with-debug"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "accounts",
    "catalog",
    "assessments",
    "learning",
    "insights",
    # LTI 1.3 tool: django-lti's models (registrations, deployments, keys) and ours (lti).
    "lti_tool",
    "lti",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost: relaxes cookies and framing for LTI-launched sessions only (lti.middleware).
    "lti.middleware.LtiEmbedMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "skillstudio.middleware.RejectNulMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: it turns a lockout flagged during authentication into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "skillstudio.urls"
WSGI_APPLICATION = "skillstudio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL is the only supported engine (JSONB, GIN, partitioning).
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# Behind PgBouncer in transaction mode (README, "Scaling out"): .iterator() must not open
# server-side cursors outside a transaction.
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
    "DISABLE_SERVER_SIDE_CURSORS", default=False
)
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("SkillStudio needs PostgreSQL: DATABASE_URL must be postgres://…")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The axes lockout backend first: it refuses a locked-out address or account before
# the password is even checked, so a correct password does not lift a lockout.
AUTHENTICATION_BACKENDS = [
    "accounts.lockout.LockoutBackend",
    "accounts.backends.UserBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "learning:dashboard"
LOGOUT_REDIRECT_URL = "home"

# Mail (password reset, instructor messages): the console backend prints mail in development;
# set EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST etc. to send.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="SkillStudio <no-reply@skillstudio.test>"
)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=60 * 60 * 3)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".devstack" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Redis: broker, result backend and cache. A unix:// URL (the local devstack)
# is spelt redis+socket:// for Celery's transport.
REDIS_URL = env.str("REDIS_URL")
CELERY_REDIS_URL = (
    "redis+socket://" + REDIS_URL.removeprefix("unix://")
    if REDIS_URL.startswith("unix://")
    else REDIS_URL
)
CELERY_BROKER_URL = CELERY_REDIS_URL
CELERY_RESULT_BACKEND = CELERY_REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# With acks_late a message whose worker died is redelivered after the
# visibility timeout; it must exceed the longest task (a chunk of learners, a
# model fit). Unacked messages are swept for every few seconds so a short
# timeout (the worker tests use 1 s) is honoured.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, CELERY_VISIBILITY_TIMEOUT)),
    "unacked_restore_throttle": 1,
}
# Results are recorded in PostgreSQL (insights.PendingJob); Redis keeps none.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The chunks of the fan-out jobs (hundreds per run at scale) wait in their own queue, so a
# learner's write follow-up is never queued behind a whole run: a worker consuming both
# takes from them in turn. Every worker consumes both (`-Q celery,bulk`, see the Procfile);
# give the bulk queue its own workers to keep its runs off the follow-ups' CPU.
CELERY_BULK_QUEUE = "bulk"
CELERY_TASK_ROUTES = {
    "insights.adjust_learner_chunk": {"queue": CELERY_BULK_QUEUE},
    "insights.warm_dashboard_chunk": {"queue": CELERY_BULK_QUEUE},
}
CELERY_TIMEZONE = "UTC"

# How many reverse proxies we run in front of the app (each appends to
# X-Forwarded-For). 0: the socket peer is the client. See skillstudio/client_ip.py.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Login lockout (django-axes) on every door that authenticates a password: the
# HTML login, /admin/login/ and the API login. Failures are counted per client
# address and per account separately; either reaching the limit locks that
# address or account out for the cool-off time. Counted in PostgreSQL, so an
# outage of Redis neither locks people out nor lifts a lockout.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# A success does not wipe the count: an attacker could otherwise clear the
# failures recorded from their address by logging into an account of their own.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "skillstudio.client_ip.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.login_username"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# Data rights (accounts.privacy): how long an export's download link works, and the grace
# period between a learner asking for erasure and the account being erased.
PRIVACY_EXPORT_TTL_HOURS = env.int("PRIVACY_EXPORT_TTL_HOURS", default=48)
PRIVACY_ERASURE_GRACE_DAYS = env.int("PRIVACY_ERASURE_GRACE_DAYS", default=14)

# xAPI statements (learning.xapi) to a learning record store; nothing is sent while the
# endpoint is empty. Activity ids and the pseudonymous actors live under XAPI_ACTIVITY_BASE.
XAPI_LRS_ENDPOINT = env.str("XAPI_LRS_ENDPOINT", default="")
XAPI_LRS_USERNAME = env.str("XAPI_LRS_USERNAME", default="")
XAPI_LRS_PASSWORD = env.str("XAPI_LRS_PASSWORD", default="")
XAPI_LRS_TIMEOUT = env.float("XAPI_LRS_TIMEOUT", default=10.0)
XAPI_BATCH_SIZE = env.int("XAPI_BATCH_SIZE", default=100)
XAPI_ACTIVITY_BASE = env.str("XAPI_ACTIVITY_BASE", default="https://skillstudio.example")

# The optional course tutor (catalog.tutor, catalog.llm): off while TUTOR_PROVIDER is empty.
# "openai" means any OpenAI-compatible chat-completions HTTP API (hosted or self-hosted);
# only the learner's question and the retrieved lesson passages are sent (README "Tutor").
TUTOR_PROVIDER = env.str("TUTOR_PROVIDER", default="")
TUTOR_MODEL = env.str("TUTOR_MODEL", default="")
TUTOR_API_KEY = env.str("TUTOR_API_KEY", default="")
TUTOR_BASE_URL = env.str("TUTOR_BASE_URL", default="https://api.openai.com/v1")
TUTOR_TIMEOUT_SECONDS = env.float("TUTOR_TIMEOUT_SECONDS", default=20.0)
# Generated answers per learner and period ("20/hour"; periods: second, minute, hour, day).
TUTOR_RATE_LIMIT = env.str("TUTOR_RATE_LIMIT", default="20/hour")
if TUTOR_PROVIDER not in ("", "openai"):
    raise ImproperlyConfigured('TUTOR_PROVIDER must be empty (tutor off) or "openai".')
if TUTOR_PROVIDER and not (TUTOR_MODEL and TUTOR_BASE_URL):
    raise ImproperlyConfigured("TUTOR_PROVIDER needs TUTOR_MODEL and TUTOR_BASE_URL.")
_rate_count, _, _rate_period = TUTOR_RATE_LIMIT.partition("/")
if not _rate_count.isdigit() or _rate_period not in ("second", "minute", "hour", "day"):
    raise ImproperlyConfigured('TUTOR_RATE_LIMIT must look like "20/hour".')

CACHES = {
    "default": {
        "BACKEND": "skillstudio.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# Sessions live in PostgreSQL so logging in never depends on Redis being up; requests read
# them from a copy in Redis kept a few minutes at most (skillstudio.sessions).
SESSION_ENGINE = "skillstudio.sessions"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.backends.JWTUserAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    # One input-hardening layer (depth, NaN/Infinity, NUL, lone surrogates) and a
    # renderer that cannot fail on what a 400 echoes back.
    "DEFAULT_PARSER_CLASSES": [
        "skillstudio.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "skillstudio.renderers.JSONRenderer",
        "skillstudio.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "skillstudio.api_errors.SkillStudioAutoSchema",
    "EXCEPTION_HANDLER": "skillstudio.api_errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="10/min"),
        # Reset e-mails per client address: enough for typos, too few to spam an inbox.
        "password_reset": env.str("PASSWORD_RESET_THROTTLE_RATE", default="10/hour"),
        # Questions to the course tutor (GET /api/v1/lessons/{id}/ask), per user.
        "tutor": env.str("TUTOR_THROTTLE_RATE", default="30/min"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=15),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SkillStudio API",
    "DESCRIPTION": "Adaptive learning platform: catalog, learning, assessments and insights.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "kind"/"status" field: name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "AssessmentKindEnum": "assessments.models.Assessment.Kind",
        "AuthoredAssessmentKindEnum": "assessments.models.AUTHORED_KIND_CHOICES",
        "QuestionKindEnum": "assessments.models.Question.Kind",
        "CourseStatusEnum": "catalog.models.Course.Status",
        "DifficultyEnum": "catalog.models.Difficulty",
        "ContentTypeEnum": "catalog.models.Lesson.ContentType",
        "GoalStatusEnum": "learning.models.LearningGoal.Status",
        "EnrollmentStatusEnum": "learning.models.Enrollment.Status",
        "LessonProgressStatusEnum": "learning.models.LessonProgress.Status",
        "EventTypeEnum": "learning.models.LearnerEvent.Type",
    },
}

# Security: secure by default; `check --deploy` is clean with DEBUG off.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Only behind a proxy that sets (overwrites) the header: otherwise any client
# could claim HTTPS. Spelt "HTTP_X_FORWARDED_PROTO=https".
if _proxy_ssl := env.str("SECURE_PROXY_SSL_HEADER", default=""):
    _header, _, _value = _proxy_ssl.partition("=")
    if not _header.startswith("HTTP_") or not _value:
        raise ImproperlyConfigured(
            "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO=https"
        )
    SECURE_PROXY_SSL_HEADER = (_header, _value)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): our pages load scripts, styles and images
# from this site only; no inline scripts or styles. Lesson Markdown may show
# images from the hosts listed here (https only), and the same list is all
# the policy allows beyond this site.
LESSON_IMAGE_HOSTS = env.list("LESSON_IMAGE_HOSTS", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *(f"https://{host}" for host in LESSON_IMAGE_HOSTS)],
        # Lesson videos are linked by instructors from their video host.
        "media-src": [SELF, "https:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
