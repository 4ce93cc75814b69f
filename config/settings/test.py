"""Test settings. PostgreSQL and Redis are used when reachable (core.testenv decides; with
CI=true both are required)."""
import dj_database_url

from core.testenv import database_url, redis_url

from .base import *  # noqa: F403

_db = database_url()
if _db:
    DATABASES = {"default": dj_database_url.parse(_db, conn_max_age=0)}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / ".test-db.sqlite3"}}  # noqa: F405

REDIS_URL = redis_url()
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
CELERY_TASK_ALWAYS_EAGER = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
# Tests that call the API hundreds of times in a minute (the cross-organisation matrix) are not
# about rate limits; tests/core/test_throttling.py sets small rates and proves the limits.
API_THROTTLE_RATES = {"token": "100000/minute", "user": "100000/minute", "anon": "100000/minute"}
API_TOKEN_CACHE_SECONDS = 0  # revocation and deactivation tests expect the refusal at once; see test_api_token_cache
