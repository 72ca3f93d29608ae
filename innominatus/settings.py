"""Django settings for innominatus, read from the environment (see docs/configuration.md)."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from innominatus import metricsdir
from innominatus.env import Env

env = Env()

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.str("INNOMINATUS_DATA_DIR", str(BASE_DIR / "data")))

DEBUG = env.bool("DEBUG", False)
# scripts/run.sh keeps a local installation's key in the data directory; manage.py commands find it there.
SECRET_KEY_FILE = DATA_DIR / "secret_key"
SECRET_KEY = env.str("SECRET_KEY") or (
    SECRET_KEY_FILE.read_text().strip() if SECRET_KEY_FILE.is_file() else ""
)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set, or {SECRET_KEY_FILE} exist (or DEBUG=true for local development)"
        )
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105 - only with DEBUG on  # nosec B105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")
PORT = env.int("PORT", 8081, minimum=1, maximum=65535)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "innominatus.accounts",
    "workflows",
    "ops",
    "portal",
]

MIDDLEWARE = [
    # Outermost: counts every response (also those other middleware produce) by route template.
    "ops.metrics.http.HttpMetricsMiddleware",
    "ops.middleware.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "innominatus.accounts.middleware.RequestContextMiddleware",
    "innominatus.middleware.InvalidTextMiddleware",
    "ops.middleware.MaintenanceMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "innominatus.accounts.middleware.SecurityHeadersMiddleware",
    "innominatus.accounts.middleware.AuditMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "innominatus.urls"
WSGI_APPLICATION = "innominatus.wsgi.application"

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
                "portal.inbox.inbox_counts",
            ],
        },
    },
]

# Database: PostgreSQL when DB_HOST is set, otherwise the embedded SQLite default.
DB_HOST = env.str("DB_HOST")
if DB_HOST:
    DATABASES = {
        "default": {
            # django-prometheus' wrappers count queries and errors (innominatus_db_queries_total …).
            "ENGINE": "django_prometheus.db.backends.postgresql",
            "HOST": DB_HOST,
            "PORT": env.int("DB_PORT", 5432, minimum=1, maximum=65535),
            "USER": env.str("DB_USER", "postgres"),
            "PASSWORD": env.str("DB_PASSWORD"),  # replaced below when DB_PASSWORD_SECRET is set
            "NAME": env.str("DB_NAME", "idp_orchestrator"),
            # Persistent connections: the q2 ORM broker opens connections per enqueue otherwise.
            "CONN_MAX_AGE": env.int("DB_CONN_MAX_AGE", 600, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "sslmode": env.choice(
                    "DB_SSLMODE",
                    "prefer",
                    {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
                ),
                "connect_timeout": env.int("DB_CONNECT_TIMEOUT", 5, minimum=1),
                "application_name": "innominatus",
                # The workflow engine's per-step statements bind on the server and are prepared after 5
                # runs on a connection; a pooler that hands connections out per transaction (PgBouncer
                # before 1.21) loses them: DB_PREPARED_STATEMENTS=false there.
                "prepare_threshold": 5 if env.bool("DB_PREPARED_STATEMENTS", True) else None,
                # TLS files (CA, client certificate and key); empty ones are left to libpq's defaults.
                **{
                    option: value
                    for option, value in (
                        ("sslrootcert", env.str("DB_SSLROOTCERT")),
                        ("sslcert", env.str("DB_SSLCERT")),
                        ("sslkey", env.str("DB_SSLKEY")),
                    )
                    if value
                },
            },
        }
    }
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": DATA_DIR / "innominatus.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock up front so concurrent writers queue instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

# Password rotation through Kubernetes: read key `password` of this Secret in the pod's namespace.
DB_PASSWORD_SECRET = env.str("DB_PASSWORD_SECRET")
# The worker, backup and migration pods follow the web Deployment's DB_PASSWORD_SECRET, so that
# `kubectl set env deployment/innominatus DB_PASSWORD_SECRET=<new>` rotates every component.
DB_PASSWORD_SECRET_FROM = env.str("DB_PASSWORD_SECRET_FROM")
if DB_PASSWORD_SECRET_FROM and DB_HOST:
    from innominatus.kube_secret import followed_secret_name

    DB_PASSWORD_SECRET = followed_secret_name(DB_PASSWORD_SECRET_FROM, DB_PASSWORD_SECRET)
if DB_PASSWORD_SECRET and DB_HOST:
    from innominatus.kube_secret import read_secret_key

    DATABASES["default"]["PASSWORD"] = read_secret_key(DB_PASSWORD_SECRET, "password")
# psql in the pod (`kubectl exec … psql -h $DB_HOST -U $DB_USER`) reads the password from this file.
PGPASSFILE = env.str("PGPASSFILE")
if PGPASSFILE and DB_HOST and DATABASES["default"]["PASSWORD"]:
    from innominatus.pgpass import write_pgpass

    write_pgpass(
        PGPASSFILE,
        host=DB_HOST,
        port=str(DATABASES["default"]["PORT"]),
        user=str(DATABASES["default"]["USER"]),
        password=str(DATABASES["default"]["PASSWORD"]),
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "innominatus_cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", str(DATA_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

LOGIN_URL = "/login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login"

# Request bodies: Score specs are small; anything larger is refused early with 413.
SCORE_MAX_BYTES = env.int("SCORE_MAX_BYTES", 512 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_MAX_BYTES", 2 * 1024 * 1024, minimum=SCORE_MAX_BYTES)
# Deepest nesting of a JSON body or Score document; deeper input is refused with 400 before it is used.
INPUT_MAX_DEPTH = env.int("INPUT_MAX_DEPTH", 64, minimum=8, maximum=256)
# Resources and containers one Score spec may declare. The deploy workflow runs one step per resource
# and a workflow has at most 500 steps, hence the ceiling.
SCORE_MAX_RESOURCES = env.int("SCORE_MAX_RESOURCES", 100, minimum=1, maximum=400)
SCORE_MAX_CONTAINERS = env.int("SCORE_MAX_CONTAINERS", 20, minimum=1, maximum=400)

REST_FRAMEWORK = {
    # Bearer first: its WWW-Authenticate header turns anonymous refusals into 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "innominatus.accounts.authentication.BearerAuthentication",
        "innominatus.accounts.authentication.SessionAuthentication",
    ],
    # The only permission class: deny by default, see innominatus/accounts/rbac.py.
    "DEFAULT_PERMISSION_CLASSES": ["innominatus.accounts.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": [
        "innominatus.accounts.throttling.UserRateThrottle",
        "innominatus.accounts.throttling.AnonRateThrottle",
        "innominatus.accounts.throttling.AddressRateThrottle",
    ],
    "DEFAULT_PAGINATION_CLASS": "innominatus.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "innominatus.filtering.StrictFilterBackend",
        "innominatus.filtering.StrictOrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": ["innominatus.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["innominatus.renderers.SafeJSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "innominatus.openapi.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "innominatus.problems.problem_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "innominatus API",
    "DESCRIPTION": "Platform orchestrator: submit Score specs, run workflows, watch resources.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "innominatus.openapi.document_nul_refusal",
    ],
    "SERVE_PERMISSIONS": ["innominatus.accounts.permissions.RolePermission"],
    "ENUM_NAME_OVERRIDES": {
        "ExecutionStatusEnum": "workflows.choices.ExecutionStatus",
        "StepStatusEnum": "workflows.choices.StepStatus",
        "ResourceStateEnum": "workflows.choices.ResourceState",
        "ResourceKindEnum": "workflows.choices.ResourceKind",
        "LogStreamEnum": "workflows.choices.LogStream",
    },
}

# django-q2 carries "run step N" messages only; attempts and backoff live in our own rows.
Q_TIMEOUT = env.int("Q_TIMEOUT", 3600, minimum=10)
Q_RETRY = env.int("Q_RETRY", 3700, minimum=20)
Q_CLUSTER = {
    "name": "innominatus",
    "orm": "default",
    "workers": env.int("Q_WORKERS", 2, minimum=1, maximum=64),
    "timeout": Q_TIMEOUT,
    "retry": Q_RETRY,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "save_limit": env.int("Q_SAVE_LIMIT", 1000, minimum=-1),
    "poll": env.float("Q_POLL", 0.1, minimum=0.01),
    "sync": env.bool("Q_SYNC", False),
    "label": "Task queue",
}
if Q_TIMEOUT >= Q_RETRY:
    raise ImproperlyConfigured("Q_TIMEOUT must be lower than Q_RETRY, or tasks would run twice")

# Workflow engine.
STEP_LEASE_SECONDS = env.int("STEP_LEASE_SECONDS", 30, minimum=5)
REAPER_INTERVAL_SECONDS = env.int("REAPER_INTERVAL_SECONDS", 15, minimum=1)
STEP_WORK_ROOT = Path(env.str("STEP_WORK_ROOT", str(DATA_DIR / "work")))
# Step processes run as this user (name or uid); empty: `nobody` when the worker runs as root, else the
# worker's own user.
STEP_RUN_AS_USER = env.str("STEP_RUN_AS_USER", "")
# How long after its lease expired an attempt on another host counts as over (its processes stopped):
# a step's stop grace (5 s) plus the time to notice the lease is gone and some clock skew.
STEP_FENCE_GRACE_SECONDS = env.int("STEP_FENCE_GRACE_SECONDS", 15, minimum=0)
ADMIN_CONFIG = env.str("ADMIN_CONFIG", "/etc/innominatus/admin-config.yaml")
# A broken provider stops check/migrate/worker (true) or is disabled with its reason (false, the
# original's behaviour); `manage.py providers validate` is always strict.
PROVIDERS_STRICT = env.bool("PROVIDERS_STRICT", False)
# The namespace innominatus itself runs in (the chart sets POD_NAMESPACE): never an application's.
RELEASE_NAMESPACE = env.str("RELEASE_NAMESPACE", env.str("POD_NAMESPACE", "innominatus"))
# More namespace names or `prefix*` patterns no application may use (comma-separated).
RESERVED_NAMESPACES = env.list("RESERVED_NAMESPACES")

LOG_LEVEL = env.choice("LOG_LEVEL", "info", {"debug", "info", "warning", "error", "critical"}).upper()
LOG_FORMAT = env.choice("LOG_FORMAT", "json", {"json", "console"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "ops.logging.JsonFormatter"},
        "console": {"()": "ops.logging.ConsoleFormatter"},
    },
    "filters": {
        "context": {"()": "innominatus.logcontext.ContextFilter"},
        "redact": {"()": "ops.logging.RedactSecretsFilter"},
        "health_check_result": {"()": "ops.logging.HealthCheckResultFilter"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["context", "redact"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # 4xx answers are in the access log already; django.request keeps the 5xx tracebacks.
        "django.request": {"level": "ERROR"},
        "health_check": {"filters": ["health_check_result"]},
    },
}

# Operations (ops app): probes, metrics, backups and retention.
HEALTH_CHECK_TIMEOUT = env.float("HEALTH_CHECK_TIMEOUT", 2.0, minimum=0.1)
BACKUP_DIR = env.str("BACKUP_DIR", "backups")
BACKUP_KEEP = env.int("BACKUP_KEEP", 7, minimum=1)
BACKUP_SCHEDULE = env.bool("BACKUP_SCHEDULE", False)
CLEANUP_SCHEDULE = env.bool("CLEANUP_SCHEDULE", True)
RETENTION_DAYS = env.int("RETENTION_DAYS", 90, minimum=1)
PUSHGATEWAY_URL = env.str("PUSHGATEWAY_URL")
WORKER_METRICS_PORT = env.int("WORKER_METRICS_PORT", 0, minimum=0, maximum=65535)
WORKER_METRICS_ADDRESS = env.str("WORKER_METRICS_ADDRESS", "0.0.0.0")  # noqa: S104 - scraped by Prometheus  # nosec B104
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", 15.0, minimum=0.5)
# `manage.py worker`: seconds a running step may take to finish after SIGTERM before it is handed back.
WORKER_DRAIN_SECONDS = env.int("WORKER_DRAIN_SECONDS", 60, minimum=0, maximum=86400)
# Port of the worker's liveness/readiness endpoints (/livez, /readyz); 0 turns them off.
WORKER_PROBE_PORT = env.int("WORKER_PROBE_PORT", 0, minimum=0, maximum=65535)
# Claimable work older than this while a worker process sits idle means the worker makes no progress.
WORKER_STALL_SECONDS = env.int("WORKER_STALL_SECONDS", 30, minimum=5)
GIT_COMMIT = env.str("GIT_COMMIT")
# Forked servers (gunicorn workers, q2 workers) sum their metrics through files in this directory.
# prometheus_client reads the variable when first imported, which happens after settings; an
# explicitly empty value keeps metrics in process memory (unit tests, one-off commands).
PROMETHEUS_MULTIPROC_DIR = metricsdir.configure(env)

# Production hardening; `manage.py check --deploy` stays clean when TLS is terminated in front.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Probes and scrapers talk plain HTTP inside the cluster; they must not be redirected to TLS.
SECURE_REDIRECT_EXEMPT = [r"^health$", r"^ready$", r"^metrics$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO") else None
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS")

# Key for secret outputs at rest; defaults to one derived from SECRET_KEY. Former keys, newest first,
# still decrypt after a rotation until `manage.py reencrypt_secrets` has rewritten everything.
ENCRYPTION_KEY = env.str("ENCRYPTION_KEY")
ENCRYPTION_PREVIOUS_KEYS = env.list("ENCRYPTION_PREVIOUS_KEYS")

# Identity and security (docs/security.md).
AUTHENTICATION_BACKENDS = [
    "innominatus.accounts.backends.LockoutModelBackend",
    "innominatus.accounts.oidc.backend.OIDCBackend",
]
CONTENT_SECURITY_POLICY = env.str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'",
)
# Writes audited after they are answered: API, admin and portal alike.
AUDIT_PATH_PREFIXES = ("/",)
API_KEY_DEFAULT_EXPIRY_DAYS = env.int("API_KEY_DEFAULT_EXPIRY_DAYS", 90, minimum=1, maximum=365)
# Where request-rate counters live: cache (shared Redis; the default with REDIS_URL), database (an
# UNLOGGED PostgreSQL table; the default otherwise). See innominatus/accounts/throttling.py.
THROTTLE_STORE = env.choice("THROTTLE_STORE", "auto", {"auto", "cache", "database"})
if THROTTLE_STORE == "cache" and not REDIS_URL:
    raise ImproperlyConfigured("THROTTLE_STORE=cache needs REDIS_URL: every worker must share the counters.")
RATE_LIMITS = {
    "user": env.rate("RATE_LIMIT_USER", "1200/min"),
    "anon": env.rate("RATE_LIMIT_ANON", "120/min"),
    "address": env.rate("RATE_LIMIT_ADDRESS", "3000/min"),
    "login": env.rate("RATE_LIMIT_LOGIN", "30/min"),
}
# Lock-out (innominatus/accounts/lockout.py): failures per username and per client address.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", 15 * 60, minimum=10)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", 60, minimum=1, maximum=LOGIN_FAILURE_WINDOW_SECONDS)
# Proxies whose X-Forwarded-For is believed (CIDRs). The default trusts loopback and the private
# ranges, where ingress controllers and load balancers in a cluster live; `none` trusts nobody.
TRUSTED_PROXIES = env.networks(
    "TRUSTED_PROXIES", "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
)

# OpenID Connect (mozilla-django-oidc); endpoints come from the issuer's discovery document.
OIDC_ENABLED = env.bool("OIDC_ENABLED", False)
OIDC_ISSUER = env.str("OIDC_ISSUER", env.str("OIDC_ISSUER_URL")).rstrip("/")
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET")
OIDC_REDIRECT_URL = env.str("OIDC_REDIRECT_URL")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", "Single sign-on")
OIDC_TEAMS_CLAIM = env.str("OIDC_TEAMS_CLAIM", "groups")
OIDC_ROLES_CLAIM = env.str("OIDC_ROLES_CLAIM", "roles")
# The public client `innominatus-ctl login --sso` uses (code flow + PKCE on a loopback redirect);
# its id tokens must carry an accepted audience, so it joins OIDC_AUDIENCES by default.
OIDC_CLI_CLIENT_ID = env.str("OIDC_CLI_CLIENT_ID", OIDC_CLIENT_ID)
# Only for providers that insist on a secret for installed applications (RFC 8252 8.5): it is handed
# to every CLI, so it is never the web client's secret (published only with a separate CLI client id).
OIDC_CLI_CLIENT_SECRET = env.str("OIDC_CLI_CLIENT_SECRET")
OIDC_AUDIENCES = env.list(
    "OIDC_AUDIENCES", sorted({OIDC_CLIENT_ID, OIDC_CLI_CLIENT_ID} - {""}) if OIDC_CLIENT_ID else []
)
OIDC_SIGN_ALGORITHMS = env.list("OIDC_SIGN_ALGORITHMS", ["RS256"])
OIDC_ACCEPT_OPAQUE_TOKENS = env.bool("OIDC_ACCEPT_OPAQUE_TOKENS", False)
OIDC_USE_USERINFO = env.bool("OIDC_USE_USERINFO", True)
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", 5.0, minimum=0.1)
OIDC_VERIFY_SSL = env.bool("OIDC_VERIFY_SSL", True)
OIDC_DISCOVERY_CACHE_SECONDS = env.int("OIDC_DISCOVERY_CACHE_SECONDS", 3600, minimum=10)
OIDC_USERINFO_CACHE_SECONDS = env.int("OIDC_USERINFO_CACHE_SECONDS", 300, minimum=0)
if OIDC_ENABLED and not (OIDC_ISSUER and OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ImproperlyConfigured("OIDC_ENABLED needs OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET")
# The names mozilla-django-oidc reads.
OIDC_RP_CLIENT_ID = OIDC_CLIENT_ID
OIDC_RP_CLIENT_SECRET = OIDC_CLIENT_SECRET
OIDC_RP_SIGN_ALGO = "RS256"
OIDC_RP_SCOPES = env.str("OIDC_SCOPES", "openid email profile")
OIDC_USE_PKCE = True
OIDC_USE_NONCE = True
LOGIN_REDIRECT_URL_FAILURE = "/login?error=sso"

# The event stream (docs/events.md): how much history a client may resume from (by age and by
# count; pruned every 10 minutes), how many streams one web process serves at most (more answer 503
# with Retry-After), the keep-alive interval, and the poll interval where no LISTEN/NOTIFY exists.
EVENTS_RETENTION_HOURS = env.int("EVENTS_RETENTION_HOURS", 24, minimum=1)
EVENTS_RETENTION_COUNT = env.int("EVENTS_RETENTION_COUNT", 200000, minimum=1000)
EVENTS_MAX_STREAMS = env.int("EVENTS_MAX_STREAMS", 32, minimum=0)
EVENTS_KEEPALIVE_SECONDS = env.float("EVENTS_KEEPALIVE_SECONDS", 15.0, minimum=0.1)
EVENTS_POLL_SECONDS = env.float("EVENTS_POLL_SECONDS", 1.0, minimum=0.05)
