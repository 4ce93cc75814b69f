#!/usr/bin/env bash
# `make serve`: the deployment shape on one machine — gunicorn, one Celery worker and exactly one
# Celery beat (JB-16), against PostgreSQL and Redis. Ctrl+C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin

export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.production}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/guarantee_policy}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/0}
# Local convenience only: a real deployment sets its own secret and serves HTTPS behind a proxy.
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    export DJANGO_SECRET_KEY="local-serve-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
    export DJANGO_SECURE_SSL_REDIRECT=${DJANGO_SECURE_SSL_REDIRECT:-false}
    export DJANGO_SECURE_COOKIES=${DJANGO_SECURE_COOKIES:-false}
    echo "serve: no DJANGO_SECRET_KEY set; using a throwaway one and plain HTTP on this machine"
fi
export DJANGO_ALLOWED_HOSTS=${DJANGO_ALLOWED_HOSTS:-127.0.0.1,localhost}
BIND=${BIND:-127.0.0.1:8000}
WEB_CONCURRENCY=${WEB_CONCURRENCY:-3}

DBNAME=$($PY/python -c "import os,urllib.parse as u;print(u.urlparse(os.environ['DATABASE_URL']).path.lstrip('/'))")
if command -v psql >/dev/null && [[ "$DATABASE_URL" == postgres* ]]; then
    psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
        || psql "${DATABASE_URL%/*}/postgres" -c "CREATE DATABASE \"$DBNAME\"" >/dev/null
fi
# Migrations run as the owner role of DATABASE_URL; the web and the workers then run as the
# application role, which owns nothing and may only SELECT and INSERT audit rows (point 6 of the
# security section: not even the application can rewrite or empty the audit trail).
$PY/python manage.py migrate --noinput
$PY/python manage.py collectstatic --noinput -v0
if [[ "$DATABASE_URL" == postgres* ]]; then
    export APP_DB_ROLE=${APP_DB_ROLE:-gp_app}
    if [ -z "${APP_DB_PASSWORD:-}" ]; then
        # Local convenience, like the secret key: a real deployment sets its own.
        export APP_DB_PASSWORD="$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
        echo "serve: no APP_DB_PASSWORD set; role $APP_DB_ROLE gets a throwaway one"
    fi
    DATABASE_URL=$($PY/python manage.py db_app_role --print-url)
    export DATABASE_URL
    echo "serve: web and workers run as database role $APP_DB_ROLE"
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

$PY/celery -A config worker --loglevel=INFO --concurrency=${CELERY_CONCURRENCY:-2} &
pids+=($!)
$PY/celery -A config beat --loglevel=INFO --schedule=/tmp/celerybeat-schedule-$DBNAME &
pids+=($!)
$PY/gunicorn config.wsgi:application --bind "$BIND" --workers "$WEB_CONCURRENCY" --access-logfile - &
pids+=($!)
echo "serve: http://$BIND/ (gunicorn ×$WEB_CONCURRENCY, Celery worker, Celery beat)"
wait -n "${pids[@]}"
