#!/usr/bin/env bash
# Sets up and runs innominatus (web on :8081 + a django-q2 worker) on the embedded SQLite default.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export INNOMINATUS_DATA_DIR=${INNOMINATUS_DATA_DIR:-$PWD/data}
export PORT=${PORT:-8081}
export SECURE_COOKIES=${SECURE_COOKIES:-false}
export LOG_FORMAT=${LOG_FORMAT:-console}
mkdir -p "$INNOMINATUS_DATA_DIR"

if [ ! -x .venv/bin/python ]; then
  echo "==> creating virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
echo "==> installing dependencies"
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt

# A stable secret key for this installation, kept out of the repository.
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$INNOMINATUS_DATA_DIR/secret_key" ]; then
    .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$INNOMINATUS_DATA_DIR/secret_key"
    chmod 600 "$INNOMINATUS_DATA_DIR/secret_key"
  fi
  SECRET_KEY=$(cat "$INNOMINATUS_DATA_DIR/secret_key")
  export SECRET_KEY
fi

echo "==> preparing the database ($INNOMINATUS_DATA_DIR)"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py createcachetable
.venv/bin/python manage.py collectstatic --noinput --verbosity 0
.venv/bin/python manage.py bootstrap_admin --username "${ADMIN_USERNAME:-admin}"

echo "==> starting the worker and the web server on http://localhost:$PORT"
.venv/bin/python manage.py worker &
WORKER_PID=$!
trap 'kill "$WORKER_PID" 2>/dev/null; wait "$WORKER_PID" 2>/dev/null' EXIT INT TERM
.venv/bin/gunicorn -c python:innominatus.gunicorn_conf innominatus.wsgi
