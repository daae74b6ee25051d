"""The one settings module. Every knob comes from the environment (see tropa.env).

Defaults are the production ones: no debug, secure cookies, HSTS, TLS redirect.
The demo and the tests loosen what plain HTTP on loopback needs, explicitly.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from tropa.env import (
    env_bool,
    env_int,
    env_keyring,
    env_list,
    env_retention,
    env_secret,
    env_str,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env_str("TROPA_DATA_DIR", "var")).resolve()
SECRETS_DIR = Path(env_str("TROPA_SECRETS_DIR", str(DATA_DIR / "secrets"))).resolve()

DEBUG = env_bool("TROPA_DEBUG", False)
SECRET_KEY = env_secret("TROPA_SECRET_KEY", fallback_file=SECRETS_DIR / "secret_key")
# Keyed MAC for the audit chain. Kept apart from SECRET_KEY and outside the
# database, so someone holding a copy of the database cannot re-forge the chain.
AUDIT_HMAC_KEY = env_secret("TROPA_AUDIT_KEY", fallback_file=SECRETS_DIR / "audit_key")
# Keyed HMAC for blind indexes (duplicate detection without storing values).
BLIND_INDEX_KEY = env_secret("TROPA_BLIND_INDEX_KEY", fallback_file=SECRETS_DIR / "blind_index_key")
# Versioned server keys for fields that are not per-case (intake state, later
# volunteer details): {"1": base64 key, "2": ...}; the highest version encrypts.
VAULT_FIELD_KEYS = env_keyring("TROPA_FIELD_KEYS", fallback_file=SECRETS_DIR / "field_keys")
VAULT_FIELD_KEYS_FILE = SECRETS_DIR / "field_keys"
ALLOWED_HOSTS = env_list("TROPA_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "huey.contrib.djhuey",
    "tropa.core",
    "tropa.audit",
    "tropa.accounts",
    "tropa.vault",
    "tropa.cases",
    "tropa.volunteers",
    "tropa.matching",
    "tropa.routes",
    "tropa.journeys",
    "tropa.applications",
    "tropa.reports",
    "tropa.documents",
    "tropa.intake",
    "tropa.intake.channels.web.apps.WebChatConfig",
    "tropa.intake.channels.telegram.apps.TelegramConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tropa.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    "tropa.core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tropa.core.csrf.TropaCsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "tropa.accounts.middleware.RefusedSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Django's W003 looks for its own CSRF middleware by name; ours subclasses it
# (see tropa.core.csrf) and tropa.E004 checks that it is in place instead.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "tropa.urls"
WSGI_APPLICATION = "tropa.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tropa.journeys.context_processors.journey_alarms",
                "tropa.applications.context_processors.application_deadlines",
            ],
        },
    },
]


def _database() -> dict[str, object]:
    url = env_str("DATABASE_URL", "")
    if url:
        config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
        if config["ENGINE"] == "django.db.backends.postgresql":
            config["CONN_HEALTH_CHECKS"] = True
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "tropa.sqlite3",
        "OPTIONS": {
            # WAL lets readers work while one writer commits; secure_delete
            # overwrites freed pages so deleted ciphertext does not linger.
            # synchronous=FULL syncs the WAL at every commit: with NORMAL a
            # power cut can undo commits, and a message already acknowledged to
            # Telegram (webhook answered, getUpdates offset moved on) or shown
            # as sent in the web chat would be lost for good. Intake batches
            # messages per commit so the sync is paid once per batch.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                "PRAGMA secure_delete=ON; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;"
            ),
            # Take the write lock at BEGIN so two writers queue instead of
            # failing with "database is locked" when a read upgrades to a write.
            "transaction_mode": "IMMEDIATE",
        },
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.Staff"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"

# Staff sessions: short, sliding, gone when the browser closes.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_IDLE_MINUTES = env_int("TROPA_SESSION_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# Sessions slide: tropa.core.middleware.SessionMiddleware writes one that did not
# change at most once a minute (Django's SESSION_SAVE_EVERY_REQUEST would write it
# on every page view, a disk sync each).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Login throttling: more failures than this within a minute are refused.
LOGIN_FAILURES_PER_MINUTE = env_int("TROPA_LOGIN_FAILURES_PER_MINUTE", 5, minimum=1)
# A password check passed but the second factor not yet given expires after this.
LOGIN_PENDING_SECONDS = env_int("TROPA_LOGIN_PENDING_SECONDS", 300, minimum=30)

OTP_TOTP_ISSUER = "Tropa"

# Argon2id cost for staff private keys ("interactive": 3 passes over 64 MiB).
VAULT_KDF = env_str("TROPA_VAULT_KDF", "interactive")

# Applicant safety in chats: every message (both sides) is deleted after this
# many hours (Telegram allows a bot to delete for 48 h); these words wipe the
# chat at once (the second one looks innocent on a seized phone).
INTAKE_AUTODELETE_HOURS = env_int("TROPA_AUTODELETE_HOURS", 24, minimum=1)
# The flow's own panic word («стереть» / "wipe", told to applicants) works too.
INTAKE_PANIC_WORDS = env_list("TROPA_PANIC_WORDS", ["/forget", "стереть", "wipe"])
TELEGRAM_BOT_TOKEN = env_str("TROPA_TELEGRAM_TOKEN", "")
TELEGRAM_API_BASE = env_str("TROPA_TELEGRAM_API", "https://api.telegram.org")
TELEGRAM_WEBHOOK_SECRET = env_str("TROPA_TELEGRAM_WEBHOOK_SECRET", "")
TELEGRAM_GLOBAL_PER_SECOND = env_int("TROPA_TELEGRAM_GLOBAL_PER_SECOND", 30, minimum=1)
TELEGRAM_PER_CHAT_PER_SECOND = env_int("TROPA_TELEGRAM_PER_CHAT_PER_SECOND", 1, minimum=1)

# The queue highlights cases with no human reply this long after they came in.
CASE_FIRST_REPLY_SLA_MINUTES = env_int("TROPA_FIRST_REPLY_SLA_MINUTES", 120, minimum=1)

# Visa and asylum deadlines show in the queue this many days ahead.
APPLICATION_DEADLINE_DAYS = env_int("TROPA_APPLICATION_DEADLINE_DAYS", 7, minimum=1)
# Public figures and the dashboard show counts under this as "<N".
REPORT_SUPPRESSION_THRESHOLD = env_int("TROPA_REPORT_THRESHOLD", 10, minimum=2)

# Documents: uploads stay in memory up to this size (nothing touches the disk in
# clear); images are destroyed this many days after verification or closing;
# foreign passports expiring within this many months are flagged.
UPLOAD_MAX_BYTES = env_int("TROPA_UPLOAD_MAX_BYTES", 20 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_HANDLERS = ["tropa.documents.uploads.MemoryOnlyUploadHandler"]
DOCUMENT_RETENTION_DAYS = env_int("TROPA_DOCUMENT_RETENTION_DAYS", 30, minimum=1)
DOCUMENT_EXPIRY_WARNING_MONTHS = env_int("TROPA_DOCUMENT_EXPIRY_MONTHS", 6, minimum=1)

# A volunteer invitation link works once, within this many hours.
VOLUNTEER_INVITE_HOURS = env_int("TROPA_VOLUNTEER_INVITE_HOURS", 72, minimum=1)

# Crypto-shredding: days a closed case is kept, by outcome ("*" for the rest).
RETENTION_DAYS = env_retention("TROPA_RETENTION_DAYS", {"*": 90, "suspected_infiltration": 365})

# Shared by several machines (docs/deployment.md): Huey's queue and schedule, and
# the Telegram flood limits all bot workers keep together. Empty on one machine.
REDIS_URL = env_str("TROPA_REDIS_URL", "")

# Huey runs periodic jobs (retention); SQLite storage next to the database by
# default, Redis when TROPA_REDIS_URL is set.
HUEY = (
    {
        "huey_class": "huey.RedisHuey",
        "name": "tropa",
        "url": env_str("TROPA_REDIS_URL"),
        "immediate": False,
    }
    if env_str("TROPA_REDIS_URL", "")
    else {
        "huey_class": "huey.SqliteHuey",
        "name": "tropa",
        "filename": str(DATA_DIR / "huey.sqlite3"),
        "immediate": False,
    }
)
# Huey opens its SQLite file as Django starts: without the data folder every
# command, `check` included, would die with "unable to open database file".
if "filename" in HUEY and not DATA_DIR.is_dir():
    raise ImproperlyConfigured(f"TROPA_DATA_DIR ({DATA_DIR}) is not a folder: create it (mode 700)")

# Cookies and transport. Plain HTTP is possible only when asked for explicitly
# (the loopback demo); then the __Host- prefix, which needs Secure, is dropped.
SECURE_COOKIES = env_bool("TROPA_SECURE_COOKIES", True)
_COOKIE_PREFIX = "__Host-" if SECURE_COOKIES else ""
SESSION_COOKIE_NAME = f"{_COOKIE_PREFIX}tropa_session"
CSRF_COOKIE_NAME = f"{_COOKIE_PREFIX}tropa_csrf"
# Holds the random key that unlocks the staff private key kept (encrypted) in
# the server session: neither half alone opens anything.
VAULT_COOKIE_NAME = f"{_COOKIE_PREFIX}tropa_vault"
LANGUAGE_COOKIE_NAME = "tropa_language"
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
LANGUAGE_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
CSRF_COOKIE_SAMESITE = "Strict"
LANGUAGE_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "tropa.core.views.csrf_failure"

SECURE_SSL_REDIRECT = env_bool("TROPA_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("TROPA_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("TROPA_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("TROPA_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No third-party origin, no inline script, no eval: everything is served by us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    },
}

LANGUAGE_CODE = env_str("TROPA_LANGUAGE", "ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# Uploaded files, only ever as ciphertext (tropa.vault.files); never served directly.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/nowhere-media/"

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Logs carry no IP address, user agent, username or message text (S8): the
# request loggers that would print client addresses are silenced, and our own
# code logs only ids and event names.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Django's request records name the route, not the path typed (tropa.core.quietlog).
    "filters": {"request_details": {"()": "tropa.core.quietlog.RequestDetailsFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_details"],
        },
        "null": {"class": "logging.NullHandler"},
    },
    "root": {"handlers": ["console"], "level": env_str("TROPA_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["null"], "propagate": False},
        "django.security.DisallowedHost": {"handlers": ["null"], "propagate": False},
        # Pillow logs every EXIF tag it parses at DEBUG (camera, GPS): never shown.
        "PIL": {"level": "INFO"},
    },
}
