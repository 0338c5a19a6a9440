"""Django settings, all from environment variables with safe defaults (see README: Configuration).

Embedded default: SQLite, in-memory channel layer, local-memory cache, poller in the server
process. Scaled out: DATABASE_URL-style Postgres settings and REDIS_URL switch the same code over.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.utils import get_random_secret_key

from config.env import env_bool, env_float, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("DASHBOARD_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", False)


def _secret_key() -> str:
    """A fixed key from the environment, else one generated once and kept in var/ (never in git)."""
    configured = env_str("DJANGO_SECRET_KEY")
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
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "dashboard.middleware.LoginRequiredByDefault",
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
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": env_str("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"},
    }
}
if env_str("POSTGRES_DB"):
    DATABASES["default"] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env_str("POSTGRES_DB"),
        "USER": env_str("POSTGRES_USER"),
        "PASSWORD": env_str("POSTGRES_PASSWORD"),
        "HOST": env_str("POSTGRES_HOST", "127.0.0.1"),
        "PORT": env_str("POSTGRES_PORT", "5432"),
        "CONN_MAX_AGE": 60,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "dashboard"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
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

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

# --- The dashboard's own settings -------------------------------------------------------------
# Kafka clusters: KAFKA_BOOTSTRAP_SERVERS & friends (see kafka_admin/config.py) describe the
# default cluster; dashboard/clusters.py reads them.
POLL_INTERVAL_S = env_float("POLL_INTERVAL", 5.0)
POLLER_IN_PROCESS = env_bool("POLLER_IN_PROCESS", True)
# Anonymous read-only access for a wall screen; off by default.
ALLOW_ANONYMOUS_READ = env_bool("ALLOW_ANONYMOUS_READ", False)
READ_ONLY = env_bool("DASHBOARD_READ_ONLY", False)
METRICS_TOKEN = env_str("METRICS_TOKEN")  # /metrics requires "Authorization: Bearer <token>" when set

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
    },
}

# History tiers (dashboard/history.py): every cycle, then per minute, then per 10 minutes.
HISTORY_RAW_S = env_float("HISTORY_RAW_SECONDS", 3600)
HISTORY_MINUTE_S = env_float("HISTORY_MINUTE_SECONDS", 86400)
HISTORY_RETENTION_DAYS = env_float("HISTORY_RETENTION_DAYS", 30)
# Per-group window of recent samples for trends and sparklines.
TREND_WINDOW_S = env_float("TREND_WINDOW_SECONDS", 900)

# Dead letter queues: topic name patterns, and explicit DLQ -> original topic mappings
# ("orders-errors=orders,payments.failed=payments").
DLQ_PATTERNS = tuple(env_list("DLQ_PATTERNS", "*-dlq,*.DLT,*-dlt"))
DLQ_MAPPING = dict(pair.split("=", 1) for pair in env_list("DLQ_MAPPING") if "=" in pair)
# Records read into the DLQ index per partition per poll cycle (the index catches up over cycles).
DLQ_INDEX_BATCH = int(env_float("DLQ_INDEX_BATCH", 2000))
