"""Settings shared by every environment. Everything that differs between machines comes from
the environment (12-factor); see README.md for the variables."""
from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in (env(name, default) or "").split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A DRF rate ("600/minute"); a typo stops the start-up rather than the first API call."""
    value = env(name, default)
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name}={value!r}: write a rate such as 600/minute (per second, minute, hour or day).")
    return value


SECRET_KEY = env("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core",
    "guarantees",
    "riskpool",
    "evaluation",
    "counterguarantee",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends the session of a person or organisation deactivated since sign-in, saying why.
    "core.auth.ActiveAccountMiddleware",
    # Holds a session that still owes its second factor at the two-factor pages (core.twofactor).
    "core.twofactor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a lockout signal into the lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
            # ``{{ value|text }}`` for stored text (core.i18n_text) on every page, without a load.
            "builtins": ["core.templatetags.i18n_text"],
        },
    },
]

# The quick start runs on an embedded SQLite file; tests and `make serve` use PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that also refuses people of a deactivated organisation, at sign-in and on
    # every request of an existing session.
    "core.auth.ActiveAccountBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout after repeated failures (django-axes): per user name, so one person's typos do not
# lock out a whole bank behind one NAT address.
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 asks for the IP address too; locking the account itself is the stronger guard here
# (rotating addresses does not help an attacker), and banks share NAT addresses.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The covering indexes' INCLUDE columns are PostgreSQL's; the quick start's SQLite keeps the key.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Two-factor sign-in (TOTP, core/twofactor.py): compulsory for these roles (the authority, the
# reviewers, the treasurer, and the finance bureau that approves the pool's money) and
# superusers, optional for everyone else.
TWO_FACTOR_REQUIRED_ROLES = ["authority_admin", "authority_reviewer", "pool_reviewer", "pool_treasurer",
                             "finance_approver"]
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "融资担保政策管理系统")

# The sign-in records keep the client's address as the trusted proxies report it.
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"

# How many proxies of our own (load balancer, nginx …) stand in front of the web servers; each
# appends to X-Forwarded-For. 0: none, the web server faces clients and X-Forwarded-For is
# ignored. Per-address limits (objections, anonymous API calls) key on core.net.client_ip.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# JB-2: dates are Asia/Shanghai dates; timestamps are stored in UTC and shown in Asia/Shanghai.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

# Upload limits: a bulk file of a province's loans fits; anything larger is refused early.
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Bulk uploads (core.upload_limits): checked before parsing. A city bank's quarterly file of
# 250,000 rows fits; a spreadsheet bomb (tiny file, huge content) does not.
BULK_UPLOAD_MAX_BYTES = int(env("BULK_UPLOAD_MAX_BYTES", str(100 * 1024 * 1024)))
BULK_UPLOAD_MAX_ROWS = int(env("BULK_UPLOAD_MAX_ROWS", "250000"))  # data rows, blank rows included
BULK_UPLOAD_MAX_UNPACKED_BYTES = int(env("BULK_UPLOAD_MAX_UNPACKED_BYTES", str(768 * 1024 * 1024)))
BULK_UPLOAD_MAX_RATIO = int(env("BULK_UPLOAD_MAX_RATIO", "100"))  # unpacked size / file size
BULK_UPLOAD_MAX_COLUMNS = int(env("BULK_UPLOAD_MAX_COLUMNS", "200"))
BULK_UPLOAD_MAX_CELL_CHARS = int(env("BULK_UPLOAD_MAX_CELL_CHARS", "32767"))  # Excel's own cap
BULK_UPLOAD_PARSE_SECONDS = float(env("BULK_UPLOAD_PARSE_SECONDS", "300"))
# Issue 12: a file of more rows is entered by a Celery task (progress bar, result page); rows are
# checked and written this many at a time.
BULK_IMPORT_INLINE_ROWS = int(env("BULK_IMPORT_INLINE_ROWS", "5000"))
BULK_IMPORT_CHUNK_ROWS = int(env("BULK_IMPORT_CHUNK_ROWS", "2000"))

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery on Redis; with no REDIS_URL tasks run in-process (eager) through the same code.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.auth.OrganisationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
    # JSON only: the browsable API's pages carry inline styles the Content-Security-Policy refuses;
    # /api/docs/ is the API's page for people.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
# A checked API token is remembered this many seconds per process (core/api/auth.py): a revoked
# token or deactivated account is refused within it. So is a caller's compiled project-list query
# (core/api/compiled.py): a pool given to or taken from an overseer shows in their API pages within
# it. 0: neither.
API_TOKEN_CACHE_SECONDS = int(env("API_TOKEN_CACHE_SECONDS", "5"))
# API rate limits (core/api/throttling.py): per API token, per signed-in person, per client address.
API_THROTTLE_RATES = {
    "token": env_rate("API_THROTTLE_TOKEN", "1200/minute"),
    "user": env_rate("API_THROTTLE_USER", "600/minute"),
    "anon": env_rate("API_THROTTLE_ANON", "60/minute"),
}
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    "core.api.throttling.TokenRateThrottle",
    "core.api.throttling.UserRateThrottle",
    "core.api.throttling.AnonRateThrottle",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = API_THROTTLE_RATES
SPECTACULAR_SETTINGS = {
    "TITLE": "政府性融资担保政策管理系统 API",
    "DESCRIPTION": _("Government financing-guarantee policy system: guarantees, risk pool, evaluation, counter-guarantee."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are for the banks' and firms' developers, who sign in or use a token.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from this site's static files (drf-spectacular-sidecar): the machines reach no CDN
    # and the Content-Security-Policy allows scripts from this site only.
    "SWAGGER_UI_DIST": "SIDECAR",
    # Two "outcome" fields with different choices: each enum named here, so neither gets a hashed name.
    "ENUM_NAME_OVERRIDES": {
        "ExemptionOutcomeEnum": "evaluation.api.EXEMPTION_OUTCOMES",
        "OutcomeEnum": "counterguarantee.rules.OUTCOMES",
    },
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Content-Security-Policy (django-csp 4): scripts and styles from this site's static files only, no
# inline <script>, style attribute or event handler (tests/core/test_csp.py keeps templates so).
# Swagger UI draws its icons from data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "noreply@guarantee-policy.invalid")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# Where the policy reference data ships inside the repository.
REFERENCE_DATA_DIR = BASE_DIR / "core" / "data"
