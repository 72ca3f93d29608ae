#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite against PostgreSQL:
# lint, format check, type check, Django checks, migrations check, OpenAPI validation, security scan, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
export DB_HOST=${DB_HOST:-127.0.0.1}
export DB_PORT=${DB_PORT:-5432}
export DB_USER=${DB_USER:-postgres}
export DB_NAME=${DB_NAME:-idp_orchestrator}
export SECRET_KEY=${SECRET_KEY:-test-secret-key-for-the-test-command-only-0123456789abcdef}
export INNOMINATUS_DATA_DIR=${INNOMINATUS_DATA_DIR:-$(mktemp -d)}

step() { printf '\n==> %s\n' "$*"; }

step "system packages"
need_apt=()
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v ansible-playbook >/dev/null 2>&1 || need_apt+=(ansible)
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium chromium-driver)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "missing system packages (install them as root): ${need_apt[*]}" >&2
  fi
fi

step "PostgreSQL on $DB_HOST:$DB_PORT"
if ! pg_isready -q -h "$DB_HOST" -p "$DB_PORT"; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h "$DB_HOST" -p "$DB_PORT" && break; sleep 1; done
fi
pg_isready -h "$DB_HOST" -p "$DB_PORT"

step "virtual environment and test dependencies"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt

step "helm"
HELM=$(scripts/fetch-helm.sh)
export HELM

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

step "mypy"
.venv/bin/mypy .

step "bandit (static security analysis)"
.venv/bin/bandit -c pyproject.toml -r innominatus workflows ops portal -q

step "django checks"
.venv/bin/python manage.py check --fail-level WARNING
.venv/bin/python manage.py makemigrations --check --dry-run
.venv/bin/python manage.py spectacular --validate --fail-on-warn --file "$INNOMINATUS_DATA_DIR/openapi.yaml"

step "pytest"
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
