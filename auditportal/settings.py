"""Settings, read from environment variables (12-factor) with safe development defaults.

Environment:
  DATABASE_URL    database to use; default: SQLite file var/auditportal.sqlite3
  DATABASE_REPLICA_URL  a read replica of DATABASE_URL (a PostgreSQL streaming replica), the
                  database alias "replica": read-only work (the changelist and detail pages,
                  Insights, the API's GET endpoints, exports, the insights command) reads the
                  audit log from it, everything else and every write uses DATABASE_URL
                  (logs/routing.py); default: none, everything on DATABASE_URL
  SECRET_KEY      required when DEBUG is off: at least 50 characters
  DEBUG           "1"/"true" to enable debug mode (default off)
  ALLOWED_HOSTS   comma-separated host names (default: localhost names)
  CSRF_TRUSTED_ORIGINS  comma-separated origins (https://portal.example.com) for a portal
                  served under another name than the one its proxy forwards

HTTPS and browser hardening, each on by default when DEBUG is off (off when it is on, so the
development server works over plain http):
  SECURE_SSL_REDIRECT, SESSION_COOKIE_SECURE, CSRF_COOKIE_SECURE   "1"/"0"
  SECURE_HSTS_SECONDS   default 31536000 (one year); 0 turns HSTS off
  SECURE_HSTS_INCLUDE_SUBDOMAINS, SECURE_HSTS_PRELOAD   "1"/"0"
  SECURE_REFERRER_POLICY   default "same-origin"
  SECURE_PROXY_SSL_HEADER  "1" behind a reverse proxy that terminates TLS and sets
                  X-Forwarded-Proto (only then: a client could otherwise claim https)
  AUDITPORTAL_BEHIND_PROXY  "1" behind reverse proxies that append the client's address to
                  X-Forwarded-For: the sign-in lockout, the access trail and the API's rate
                  limits then take the client's address from that header (default off: the
                  connection's address; a client could otherwise claim any address)
  AUDITPORTAL_PROXY_COUNT  how many such proxies a request passes (default 1)

API and sign-in:
  AUDITPORTAL_THROTTLE_ANON, AUDITPORTAL_THROTTLE_USER, AUDITPORTAL_THROTTLE_INGEST
                  request rates ("N/second|minute|hour|day"); defaults 60/minute anonymous,
                  1000/minute per user, 60/minute ingest requests per user
  AUDITPORTAL_INGEST_MAX_BYTES    largest ingest request body (default 10 MB)
  AUDITPORTAL_INGEST_MAX_RECORDS  most records in one ingest request (default 5000)
  REDIS_URL       a shared cache (redis://host:6379/0) for the rate counters; without it each
                  process counts alone (fine for one process, too lenient for several)
  AUDITPORTAL_LOCKOUT_FAILURES    failed sign-ins before a lockout (default 5)
  AUDITPORTAL_LOCKOUT_MINUTES     how long a lockout lasts (default 15)

Collection (manage.py collect_audit_logs; docs/operators/collection.md):
  AUDITPORTAL_COLLECTION_OVERLAP_MINUTES  how far before its watermark a Graph run asks again
                  (default 15)
  AUDITPORTAL_COLLECTION_BACKFILL_DAYS  how far back a source's first run reads (default 30)
  AUDITPORTAL_COLLECTION_PAGE_SIZE  $top of each Graph request (default 1000)
  AUDITPORTAL_COLLECTION_GRAPH_RATE  "N/SECONDS" requests per app and tenant (default 5/10)
  AUDITPORTAL_COLLECTION_RETRIES  sends of one request after 429/503/504 or a dropped
                  connection (default 5)
  AUDITPORTAL_COLLECTION_MAX_WAIT_SECONDS  longest Retry-After honoured as given (default 300)
  AUDITPORTAL_COLLECTION_STALE_HOURS  a source without success this long is unhealthy and
                  every page warns (default 24)
  AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES  most bytes of a blob stored in one transaction
                  (default 4 MiB)

Imports:
  AUDITPORTAL_EARLIEST_ACTIVITY_DATE  records dated before this day (YYYY-MM-DD, UTC) are
                  refused (default 2000-01-01)
  AUDITPORTAL_FUTURE_MARGIN_HOURS  records dated more than this many hours after now are
                  refused (default 24)

Tamper evidence (docs/internals/signed-digests.md):
  AUDITPORTAL_SIGNING_KEY  the Ed25519 private key file (create_signing_key makes one) that
                  signs a digest of the hash chain after every change to it; unset: no
                  digests, and the admin warns that tamper evidence is off
  AUDITPORTAL_DIGEST_DIR   folder the digests are written to, outside the database
  AUDITPORTAL_DIGEST_URL   Azure Storage container (https://ACCOUNT.blob.core.windows.net/
                  CONTAINER/PREFIX) the digests are written to as well; its key or SAS token in
                  AUDITPORTAL_DIGEST_CREDENTIAL
"""

import re
from datetime import date, timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from auditportal.environment import env_bool, env_date, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / "var"

DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env_str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=1 for a development server)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"
# Django's deployment check wants 50 characters of some variety; a production key must have them.
if not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5):
    raise ImproperlyConfigured(
        "SECRET_KEY is too short: use at least 50 random characters, e.g. the output of "
        "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS only in production; the development server (DEBUG on) speaks plain http.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", default="same-origin")
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    # Django's admin, its site refusing list filters the database cannot take with a 400
    # (logs/admin_site.py).
    "logs.admin_site.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "knox",
    "axes",
    "logs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a header: a NUL in one is written out (logs/malformed_headers.py).
    "logs.malformed_headers.WriteOutNulInHeaders",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the access trail's signal receivers read the signed-in user.
    "logs.access_trail.TrailRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

# django-axes counts failed sign-ins and refuses a username from an address after
# AXES_FAILURE_LIMIT of them, for AXES_COOLOFF_TIME. Its backend comes first: it needs the
# request, and refuses before the password is even checked. A refused attempt still sends
# Django's user_login_failed signal, so the access trail records it like any failed sign-in.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AUDITPORTAL_LOCKOUT_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AUDITPORTAL_LOCKOUT_MINUTES", default=15))
# Username and address together: a guesser elsewhere cannot lock a person out of their own
# account, and one address cannot try many passwords for one account.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The address counted (logs/client_address.py): the connection's, or behind reverse proxies
# the one the outermost proxy saw. 0 means no proxy: X-Forwarded-For is ignored.
AUDITPORTAL_PROXY_COUNT = 0
if env_bool("AUDITPORTAL_BEHIND_PROXY", default=False):
    AUDITPORTAL_PROXY_COUNT = env_int("AUDITPORTAL_PROXY_COUNT", default=1)
    if AUDITPORTAL_PROXY_COUNT < 1:
        raise ImproperlyConfigured(
            "AUDITPORTAL_PROXY_COUNT must be 1 or more when AUDITPORTAL_BEHIND_PROXY is on."
        )
AXES_CLIENT_IP_CALLABLE = "logs.client_address.client_address"
# The name tried, cut to what django-axes' table keeps (logs/lockout_name.py).
AXES_USERNAME_CALLABLE = "logs.lockout_name.lockout_name"
# Successful sign-ins are the access trail's (AccessRecord), not a second log's.
AXES_DISABLE_ACCESS_LOG = True

ROOT_URLCONF = "auditportal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The project's own overrides of Django's admin templates (admin/base_site.html: the
        # collection banner); they must come before django.contrib.admin's, which app
        # directories cannot (the admin app is listed first).
        "DIRS": [BASE_DIR / "auditportal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "logs.collection.health.collection_banner",
            ],
        },
    },
]

WSGI_APPLICATION = "auditportal.wsgi.application"

DATABASE_URL = env_str("DATABASE_URL", default="")
if not DATABASE_URL:
    DATA_DIR.mkdir(exist_ok=True)
    DATABASE_URL = f"sqlite:///{DATA_DIR / 'auditportal.sqlite3'}"

DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the portal read while an import writes; the timeout rides out short write locks.
    # Each request opens its own connection, whose page cache starts empty: memory-mapped reads
    # (up to 4 GiB of the file) come straight from the operating system's cache instead, warm
    # from earlier requests (benchmark metric ``insights``).
    # A new database file gets 16 KiB pages (the page size is fixed once the file has its first
    # table; an existing file keeps its own): an event row (1.4 KB) no longer fills half a page,
    # and a large import handles a quarter as many pages, in shallower indexes: imports and
    # retention are faster, browsing, insights and exports as fast (benchmark metrics
    # ``ingest`` and ``retention``).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=4294967296;"
            ),
        }
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", default="")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=60)
    DATABASE_ROUTERS = ["logs.routing.ReadReplicaRouter"]

for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        # The portal's queries are short index walks on tables of millions of rows, whose
        # estimated cost starts JIT compilation that takes longer than running them (benchmark
        # metric ``browse``, row "changelist search").
        _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# The rate counters of the API throttles live in the cache. Per process by default; with
# several worker processes set REDIS_URL (and install the redis package: pip install
# 'auditportal[redis]') so that they share one count.
REDIS_URL = env_str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "auditportal"}
    )
}

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"


def throttle_rate(name: str, default: str) -> str:
    """A DRF rate from the environment, checked now rather than on the first request."""
    rate = env_str(name, default=default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", rate):
        raise ImproperlyConfigured(f"{name}={rate!r} is not a rate such as 60/minute.")
    return rate


REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Token first, so that an anonymous request is answered 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # knox's, refusing a malformed token with 401 (logs/api/token_authentication.py).
        "logs.api.token_authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "URL_FORMAT_OVERRIDE": "format",
    # The anonymous rate counts per client address: X-Forwarded-For only behind a proxy.
    "NUM_PROXIES": AUDITPORTAL_PROXY_COUNT,
    # Over the rate: 429 with Retry-After. "ingest" applies to views naming that scope.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": throttle_rate("AUDITPORTAL_THROTTLE_ANON", default="60/minute"),
        "user": throttle_rate("AUDITPORTAL_THROTTLE_USER", default="1000/minute"),
        "ingest": throttle_rate("AUDITPORTAL_THROTTLE_INGEST", default="60/minute"),
    },
}

AUDITPORTAL_INGEST_MAX_BYTES = env_int("AUDITPORTAL_INGEST_MAX_BYTES", default=10 * 1024 * 1024)
AUDITPORTAL_INGEST_MAX_RECORDS = env_int("AUDITPORTAL_INGEST_MAX_RECORDS", default=5_000)

# The activity dates an import or a push accepts (logs/ingest/activity_dates.py): a record
# dated before the first day, or later than now plus the margin, is refused.
AUDITPORTAL_EARLIEST_ACTIVITY_DATE = env_date(
    "AUDITPORTAL_EARLIEST_ACTIVITY_DATE", default=date(2000, 1, 1)
)
AUDITPORTAL_FUTURE_MARGIN_HOURS = env_int("AUDITPORTAL_FUTURE_MARGIN_HOURS", default=24)

# API tokens are stored hashed and expire; a new one is needed after TOKEN_TTL.
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=30),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "auditportal API",
    "DESCRIPTION": "Read-only access to stored Microsoft Entra ID audit events, and an ingest "
    "endpoint through which an Ingestion Service pushes them.",
    "VERSION": "1",
    # The interactive docs load their scripts from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "logs.api.schema.document_error_responses",
        "logs.api.schema.document_json_export",
    ],
}

# Retention (logs/retention/policy.py): events are kept this many days, and per category
# "CategoryName=days,..." where a category is kept longer or shorter.
AUDITPORTAL_RETENTION_DAYS = env_str("AUDITPORTAL_RETENTION_DAYS", default="365")
AUDITPORTAL_RETENTION_OVERRIDES = env_str("AUDITPORTAL_RETENTION_OVERRIDES", default="")
# Archives in an Azure Storage container (apply_retention --archive-url): the name of the
# environment variable that holds the account key or SAS token, never the secret itself.
AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV = env_str(
    "AUDITPORTAL_ARCHIVE_CREDENTIAL_ENV", default="AUDITPORTAL_ARCHIVE_CREDENTIAL"
)
# How new retention archive files are compressed: "zstd" (smaller and faster) or "gzip", for
# a regulator whose tools read only gzip (logs/retention/compression.py).
AUDITPORTAL_ARCHIVE_COMPRESSION = env_str("AUDITPORTAL_ARCHIVE_COMPRESSION", default="zstd")
if AUDITPORTAL_ARCHIVE_COMPRESSION not in ("zstd", "gzip"):
    raise ImproperlyConfigured(
        f"AUDITPORTAL_ARCHIVE_COMPRESSION is {AUDITPORTAL_ARCHIVE_COMPRESSION!r}: use zstd or gzip"
    )

# Signed digests of the hash chain (logs/digests/).
AUDITPORTAL_SIGNING_KEY = env_str("AUDITPORTAL_SIGNING_KEY", default="")
AUDITPORTAL_DIGEST_DIR = env_str("AUDITPORTAL_DIGEST_DIR", default="")
AUDITPORTAL_DIGEST_URL = env_str("AUDITPORTAL_DIGEST_URL", default="")

# Continuous collection (logs/collection/, manage.py collect_audit_logs).
AUDITPORTAL_COLLECTION_OVERLAP_MINUTES = env_int(
    "AUDITPORTAL_COLLECTION_OVERLAP_MINUTES", default=15
)
AUDITPORTAL_COLLECTION_BACKFILL_DAYS = env_int("AUDITPORTAL_COLLECTION_BACKFILL_DAYS", default=30)
AUDITPORTAL_COLLECTION_PAGE_SIZE = env_int("AUDITPORTAL_COLLECTION_PAGE_SIZE", default=1000)
# Graph's documented limit for the audit log: 5 requests per 10 seconds per app and tenant.
AUDITPORTAL_COLLECTION_GRAPH_RATE = env_str("AUDITPORTAL_COLLECTION_GRAPH_RATE", default="5/10")
AUDITPORTAL_COLLECTION_RETRIES = env_int("AUDITPORTAL_COLLECTION_RETRIES", default=5)
AUDITPORTAL_COLLECTION_MAX_WAIT_SECONDS = env_int(
    "AUDITPORTAL_COLLECTION_MAX_WAIT_SECONDS", default=300
)
AUDITPORTAL_COLLECTION_STALE_HOURS = env_int("AUDITPORTAL_COLLECTION_STALE_HOURS", default=24)
AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES = env_int(
    "AUDITPORTAL_COLLECTION_BLOB_CHUNK_BYTES", default=4 * 2**20
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", default="WARNING")},
}
