# syntax=docker/dockerfile:1.7
# innominatus image: gunicorn web server by default; the same image runs the django-q2 worker
# (`python manage.py worker`), migrations, backups and the other management commands.
#
#   docker build -t innominatus:dev \
#     --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=https://git.example.com/platform/innominatus .
#
# Optional: --build-arg TERRAFORM_VERSION=1.11.4 adds the terraform CLI for `terraform` steps
# (downloaded from releases.hashicorp.com during the build, so that build needs network access).

ARG PYTHON_IMAGE=python:3.11-slim-trixie

# --- builder: compile wheels for every pinned runtime dependency -------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# Compilers only for dependencies without a binary wheel; none of this reaches the final image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY requirements.txt ./
RUN pip wheel --wheel-dir /wheels -r requirements.txt

# --- terraform (optional): fetched and checksum-verified only when TERRAFORM_VERSION is set ------
FROM ${PYTHON_IMAGE} AS terraform
ARG TERRAFORM_VERSION=""
# A mirror with the releases.hashicorp.com layout, for builds without access to HashiCorp.
ARG TERRAFORM_MIRROR=https://releases.hashicorp.com/terraform
ARG TARGETARCH
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN mkdir -p /out \
    && if [ -n "${TERRAFORM_VERSION}" ]; then \
        python -c 'import hashlib, io, os, sys, urllib.request, zipfile; \
v = os.environ["TERRAFORM_VERSION"]; arch = os.environ.get("TARGETARCH") or "amd64"; \
base = os.environ["TERRAFORM_MIRROR"].rstrip("/") + f"/{v}/"; name = f"terraform_{v}_linux_{arch}.zip"; \
sums = urllib.request.urlopen(base + f"terraform_{v}_SHA256SUMS", timeout=60).read().decode(); \
want = next(line.split()[0] for line in sums.splitlines() if line.endswith(name)); \
data = urllib.request.urlopen(base + name, timeout=300).read(); \
sys.exit(f"checksum mismatch for {name}") if hashlib.sha256(data).hexdigest() != want else None; \
zipfile.ZipFile(io.BytesIO(data)).extract("terraform", "/out")' \
        && chmod 0755 /out/terraform \
        && /out/terraform version; \
    fi

# --- runtime: no compilers, non-root ------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG SOURCE=""
ARG CREATED=""
LABEL org.opencontainers.image.title="innominatus" \
      org.opencontainers.image.description="Platform orchestrator: Score workloads, workflows, providers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.created="${CREATED}"

# GIT_COMMIT feeds innominatus_build_info. The root filesystem is read-only in the cluster, hence
# no bytecode writes; INNOMINATUS_DATA_DIR (step workspaces, the embedded SQLite default) is the one
# writable application directory, static files are collected into the image at STATIC_ROOT.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8081 \
    ADMIN_CONFIG=/etc/innominatus/admin-config.yaml \
    BACKUP_DIR=/backups \
    INNOMINATUS_DATA_DIR=/var/lib/innominatus \
    STATIC_ROOT=/app/staticfiles \
    GIT_COMMIT=${REVISION}

# What steps and operations commands run: git (GitOps), bash (script steps), ansible-playbook
# (`ansible` steps, from the original innominatus's workflows), pg_dump/pg_restore
# (backup/restore; Debian trixie's client 17 talks to PostgreSQL 15 and newer), ssh for git remotes,
# tini as PID 1 so that signals reach gunicorn/the worker and orphaned step processes are reaped;
# graphviz (`dot`) lays out and routes the step graphs of the portal and the graph API.
# Debian stable only ships security fixes, so the packages are not pinned to exact versions.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ansible bash ca-certificates git graphviz openssh-client postgresql-client tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 innominatus \
    && useradd --system --uid 10001 --gid innominatus --home-dir /home/innominatus \
        --create-home --shell /usr/sbin/nologin innominatus \
    && mkdir -p /etc/innominatus /backups /var/lib/innominatus \
    && chown innominatus:innominatus /backups /var/lib/innominatus

# Install from the builder's wheels only: no compiler and no index access in this stage.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt \
    pip install --no-index --find-links=/wheels -r /tmp/requirements.txt

COPY --from=terraform /out/ /usr/local/bin/

WORKDIR /app
# Owned by root and read-only for the runtime user: the application cannot modify itself.
COPY . /app
RUN SECRET_KEY=build-only DEBUG=false python manage.py collectstatic --noinput \
    && python -m compileall -q /app

USER 10001:10001
EXPOSE 8081
# No HEALTHCHECK: the image also runs the worker and one-off commands, which serve no HTTP;
# Kubernetes probes /health and /ready on the server container (see chart/).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "-c", "python:innominatus.gunicorn_conf", "innominatus.wsgi"]
