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

echo "==> command line: .venv/bin/python -m innominatus.cli --server http://localhost:$PORT login"
echo "    (or: .venv/bin/pip install . for the innominatus-ctl script; see docs/cli.md)"
echo "==> starting the worker and the web server on http://localhost:$PORT (stop: Ctrl-C, or kill $$)"
# Job control gives each child a process group of its own: Ctrl-C reaches only this script, and the
# trap below sends each child exactly one SIGTERM.
set -m
.venv/bin/python manage.py worker &
WORKER_PID=$!
.venv/bin/gunicorn -c python:innominatus.gunicorn_conf innominatus.wsgi &
WEB_PID=$!
set +m

stop() {
  trap - INT TERM HUP EXIT
  echo "==> stopping the web server and the worker"
  kill -TERM "$WEB_PID" "$WORKER_PID" 2>/dev/null || true
  wait "$WEB_PID" "$WORKER_PID" 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap 'stop; exit 129' HUP
trap stop EXIT
# Whichever child ends first ends the installation: the other one is stopped with it.
wait -n "$WEB_PID" "$WORKER_PID" || true
