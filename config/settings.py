"""Django settings, all from environment variables with safe defaults (see README: Configuration).

Embedded default: SQLite, in-memory channel layer, local-memory cache, poller in the server
process. Scaled out: DATABASE_URL-style Postgres settings and REDIS_URL switch the same code over.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config.env import env_bool, env_float, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DASHBOARD_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)
# Production (docs/security.md): HTTPS only, secure cookies, HSTS, a secret key from the environment.
PRODUCTION = env_bool("DJANGO_PRODUCTION", False) or env_bool("DJANGO_SECURE", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG=true cannot be combined with DJANGO_PRODUCTION=true: unset DJANGO_DEBUG")
MIN_SECRET_KEY_LENGTH = 50


def _secret_key() -> str:
    """A fixed key from the environment, else one generated once and kept in var/ (never in git).

    In production the key must come from DJANGO_SECRET_KEY and be long and random enough for
    Django's own deploy check (50+ characters, 5+ distinct ones, not a 'django-insecure-' key).
    """
    configured = env_str("DJANGO_SECRET_KEY")
    if PRODUCTION and (
        len(configured) < MIN_SECRET_KEY_LENGTH or len(set(configured)) < 5 or configured.startswith("django-insecure-")
    ):
        raise ImproperlyConfigured(
            f"DJANGO_PRODUCTION=true needs DJANGO_SECRET_KEY: a random value of at least {MIN_SECRET_KEY_LENGTH} "
            "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )
    if configured:
        return configured
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "dashboard.access.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "dashboard.access.throttle.TokenThrottleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.access.middleware.LoginRequiredByDefault",
    "dashboard.access.middleware.ExplainMethodNotAllowed",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

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
                "dashboard.context.dashboard_context",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "config.sqlite",  # Django's, with a pool of closed connections
        "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
        # Django's own test database for SQLite, said outright: pytest-django knows SQLite by the
        # ENGINE name only, and under xdist it gave "config.sqlite" a file test_<NAME>_gw0 instead.
        "TEST": {"NAME": ":memory:"},
    }
}
if env_str("POSTGRES_DB"):
    # A connection pool per process (psycopg_pool, through Django), not persistent connections:
    # under ASGI every request runs in a thread of its own, so CONN_MAX_AGE kept one connection per
    # finished request open until PostgreSQL refused more ("too many clients already", 122 errors
    # in 10 minutes of bench/bench_load.py). POSTGRES_POOL_SIZE bounds what each process may hold.
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env_str("POSTGRES_DB"),
        "USER": env_str("POSTGRES_USER"),
        "PASSWORD": env_str("POSTGRES_PASSWORD"),
        "HOST": env_str("POSTGRES_HOST", "127.0.0.1"),
        "PORT": env_str("POSTGRES_PORT", "5432"),
        "CONN_MAX_AGE": 0,
        "OPTIONS": {"pool": {"min_size": 2, "max_size": int(env_float("POSTGRES_POOL_SIZE", 20)), "timeout": 10}},
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
# Unread messages a channel may hold; past that, group_send drops live updates without a word.
# In memory a channel is one websocket (Channels' default of 100 is many cycles of slack);
# channels_redis keeps one list per server process for all its websockets, so it needs far more
# (bench/LOAD.md measured the drops at 100).
CHANNEL_LAYER_CAPACITY = int(env_float("CHANNEL_LAYER_CAPACITY", 10_000 if REDIS_URL else 100))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    # Two redis-py 8 defaults break the channel layer (docs/faults.md): a 5 s socket timeout equal
    # to channels_redis' blocking wait (idle websockets died), and a pool of 100 connections that
    # fails at once in a reconnect storm. Longer and larger here, still bounded.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "max_connections": 2000}],
                "capacity": CHANNEL_LAYER_CAPACITY,
            },
        }
    }
else:
    # Embedded: sessions are read from memory and written through to the database ("cached_db"):
    # every request loaded its session with a query (bench/LOAD.md). Their own cache, so that they
    # never push the snapshot out of the default one. One web process here, so one copy. With Redis
    # they stay in the database alone: a session cache in Redis would fail every page while Redis is
    # down (Django's cached_db does not survive a failing cache), and a logout during an outage
    # could not reach it.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dashboard"},
        "sessions": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "sessions",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        },
    }
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": CHANNEL_LAYER_CAPACITY}}
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Django's ModelBackend, refusing while a username or address is locked out (dashboard/access/throttle.py).
AUTHENTICATION_BACKENDS = ["dashboard.access.throttle.ThrottledModelBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise serves from the finders; it wants the folder to exist
WHITENOISE_USE_FINDERS = True

# --- Security (docs/security.md) -----------------------------------------------------------------
# Always: cookies out of reach of scripts and other sites, no framing, no sniffing, a strict
# Content-Security-Policy (dashboard/access/security.py). Nothing in the pages reads the CSRF cookie: forms
# carry {% csrf_token %}, and scripts using the API with a session send it from their cookie jar.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


def _proxy_ssl_header() -> tuple[str, str] | None:
    """DJANGO_SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto (value https) or X-Forwarded-Proto=https."""
    raw = env_str("DJANGO_SECURE_PROXY_SSL_HEADER").strip()
    if not raw:
        return None
    name, _, value = raw.partition("=")
    name = name.strip().upper().replace("-", "_")
    if not name.startswith("HTTP_"):
        name = "HTTP_" + name
    return name, (value.strip() or "https")


# Only behind a reverse proxy that sets this header on every request (and strips it from clients).
SECURE_PROXY_SSL_HEADER = _proxy_ssl_header()
# The client address for login throttling when behind a proxy: e.g. X-Forwarded-For (with
# CLIENT_IP_PROXIES trusted proxies appending to it) or X-Real-IP. Empty: REMOTE_ADDR.
CLIENT_IP_HEADER = env_str("DJANGO_CLIENT_IP_HEADER").strip()
CLIENT_IP_PROXIES = int(env_float("DJANGO_CLIENT_IP_PROXIES", 1))

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # False when the proxy in front redirects http -> https itself.
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(env_float("DJANGO_SECURE_HSTS_SECONDS", 31_536_000))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)

# Login throttling (dashboard/access/throttle.py): failures per username and per client address within the
# window lock further attempts for the cool-down; invalid API/metrics tokens per address likewise.
LOGIN_THROTTLE_FAILURES = int(env_float("LOGIN_THROTTLE_FAILURES", 5))
LOGIN_THROTTLE_WINDOW_S = env_float("LOGIN_THROTTLE_WINDOW_SECONDS", 900)
LOGIN_THROTTLE_COOLDOWN_S = env_float("LOGIN_THROTTLE_COOLDOWN_SECONDS", 900)
TOKEN_THROTTLE_FAILURES = int(env_float("TOKEN_THROTTLE_FAILURES", 10))

# --- The dashboard's own settings -------------------------------------------------------------
# Kafka clusters: KAFKA_BOOTSTRAP_SERVERS & friends (see kafka_admin/config.py) describe the
# default cluster; dashboard/clusters.py reads them.
POLL_INTERVAL_S = env_float("POLL_INTERVAL", 5.0)
POLLER_IN_PROCESS = env_bool("POLLER_IN_PROCESS", True)
# The poller's broker reads in a supervised child process (kafka_admin.isolation): a librdkafka crash
# ends the child, not the server. Off: in the poller's own process (only for debugging).
COLLECTOR_ISOLATED = env_bool("COLLECTOR_ISOLATED", True)
# Offset-reset reads and writes of the pages in a child process per call (kafka_admin.isolation.oneshot).
BROKER_ACTIONS_ISOLATED = env_bool("BROKER_ACTIONS_ISOLATED", True)
# Anonymous read-only access for a wall screen; off by default.
ALLOW_ANONYMOUS_READ = env_bool("ALLOW_ANONYMOUS_READ", False)
READ_ONLY = env_bool("DASHBOARD_READ_ONLY", False)
# Alert webhooks reach only public addresses; these networks (CIDRs, addresses) and host names are
# allowed besides, e.g. "10.20.0.0/16,alertmanager.internal" (dashboard/alerts/webhooks.py, docs/alerts.md).
ALERT_WEBHOOK_ALLOWED_NETWORKS = env_networks("ALERT_WEBHOOK_ALLOWED_NETWORKS")
METRICS_TOKEN = env_str("METRICS_TOKEN")  # /metrics requires "Authorization: Bearer <token>" when set
# A cluster with more group-partitions than this exports its consumer groups' per-partition series
# (current offset, lag, time lag per partition) no more: the per-group series stay (docs/metrics.md).
# 0 exports them whatever the size.
METRICS_PARTITION_SERIES_MAX = int(env_float("METRICS_PARTITION_SERIES_MAX", 20000))
# The message browser's live tail (dashboard/monitor/tail.py, docs/message-browser.md): one shared reader
# per topic and server process; viewers per topic, readers per process, records per poll, records kept.
TAIL_MAX_VIEWERS = int(env_float("TAIL_MAX_VIEWERS", 10))
TAIL_MAX_READERS = int(env_float("TAIL_MAX_READERS", 8))
TAIL_RECORDS_PER_POLL = int(env_float("TAIL_RECORDS_PER_POLL", 100))
TAIL_BUFFER = int(env_float("TAIL_BUFFER", 100))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # librdkafka repeats transport errors on every reconnect; the poller logs state changes.
        "kafka_admin.librdkafka": {"level": env_str("LIBRDKAFKA_LOG_LEVEL", "CRITICAL")},
        "django.channels.server": {"level": "WARNING"},
        # The schema registry client logs every request at INFO (decoding asks once per schema id).
        "httpx2": {"level": "WARNING"},
    },
}

# History tiers (dashboard/state/history.py): every cycle, then per minute, then per 10 minutes.
HISTORY_RAW_S = env_float("HISTORY_RAW_SECONDS", 3600)
HISTORY_MINUTE_S = env_float("HISTORY_MINUTE_SECONDS", 86400)
HISTORY_RETENTION_DAYS = env_float("HISTORY_RETENTION_DAYS", 30)
# The poller writes a group's (or topic's) history row when its offsets changed, and at least this
# often while they do not (dashboard/state/history_writer.py); 0 writes every row every cycle.
HISTORY_HEARTBEAT_S = env_float("HISTORY_HEARTBEAT_SECONDS", 300)
# Per-group window of recent samples for trends and sparklines.
TREND_WINDOW_S = env_float("TREND_WINDOW_SECONDS", 900)
# "Groups lagging" on the overview: WARN/STALL/STOP/REWIND, or further behind than this many seconds
# (kafka_admin/figures/attention.py says why 300).
ATTENTION_TIME_LAG_S = env_float("ATTENTION_TIME_LAG", 300)

# Dead letter queues: topic name patterns, and explicit DLQ -> original topic mappings
# ("orders-errors=orders,payments.failed=payments").
DLQ_PATTERNS = tuple(env_list("DLQ_PATTERNS", "*-dlq,*.DLT,*-dlt"))
DLQ_MAPPING = dict(pair.split("=", 1) for pair in env_list("DLQ_MAPPING") if "=" in pair)
# Records read into the DLQ index per partition per poll cycle (the index catches up over cycles).
DLQ_INDEX_BATCH = int(env_float("DLQ_INDEX_BATCH", 2000))
# Detection by content: topics whose latest records carry a DLQ convention's headers are DLQs too;
# how many topics the poller samples per cycle (only topics that moved), and topics never DLQs.
DLQ_DETECT = env_bool("DLQ_DETECT", True)
DLQ_DETECT_TOPICS = int(env_float("DLQ_DETECT_TOPICS", 5))
DLQ_IGNORE = frozenset(env_list("DLQ_IGNORE"))
