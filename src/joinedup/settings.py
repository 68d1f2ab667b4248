"""Django settings for joinedup, built only from environment variables.

docs/configuration.md lists every variable. Nothing here has a secret default
outside development; production refuses to start without what it needs.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url

from joinedup import config
from joinedup.errors import ConfigurationError

BASE_DIR = Path(__file__).resolve().parents[2]
ENVIRONMENT = config.env_choice("JOINEDUP_ENV", config.ENVIRONMENTS, "development")
PRODUCTION = ENVIRONMENT == "production"
VAR_DIR = Path(config.env_str("JOINEDUP_VAR_DIR") or BASE_DIR / "var").resolve()
# The planning zone: the pseudonymised warehouse, its salt (a secret; made once under var/
# outside production), and the eFI code lists it needs (see docs/warehouse.md).
WAREHOUSE_DIR = Path(config.env_str("JOINEDUP_WAREHOUSE_DIR") or VAR_DIR / "warehouse")
WAREHOUSE_SALT = config.env_str("JOINEDUP_WAREHOUSE_SALT")
EFI_REFERENCE_DIR = Path(
    config.env_str("JOINEDUP_EFI_REFERENCE") or BASE_DIR.parent / "shared" / "reference" / "efi"
)

SECRET_KEY = config.secret_key(environment=ENVIRONMENT, var_dir=VAR_DIR)
DEBUG = False  # never: tracebacks must not reach users (errors are mapped in joinedup.web.errors)

if PRODUCTION:
    ALLOWED_HOSTS = config.env_list("JOINEDUP_ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ConfigurationError(
            "JOINEDUP_ALLOWED_HOSTS must list the host names the service answers to",
            where="JOINEDUP_ALLOWED_HOSTS",
        )
else:
    ALLOWED_HOSTS = config.env_list(
        "JOINEDUP_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]
    )
CSRF_TRUSTED_ORIGINS = config.env_list("JOINEDUP_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "joinedup.core",
    "joinedup.people",
    "joinedup.record",
    "joinedup.fhir",
    "joinedup.neighbourhoods",
    "joinedup.carehomes",
    "joinedup.discharge",
    "joinedup.population",
    "joinedup.citizens",
    "joinedup.directory",
    "joinedup.workforce",
    "joinedup.portfolio",
    "joinedup.web",
]

MIDDLEWARE = [
    "joinedup.core.middleware.RequestContextMiddleware",
    "joinedup.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "joinedup.web.errors.ErrorMiddleware",
]

ROOT_URLCONF = "joinedup.urls"
WSGI_APPLICATION = "joinedup.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "joinedup.web.jinja.environment"},
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": []},
    },
]

DATABASE_URL = config.env_str("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ConfigurationError(
            "DATABASE_URL must be a postgresql:// URL (leave it unset for the SQLite file)",
            where="DATABASE_URL",
        )
    DATABASES = {"default": dict(dj_database_url.parse(DATABASE_URL, conn_max_age=60))}
    DATABASES["default"]["TEST"] = {"NAME": config.env_str("JOINEDUP_TEST_DATABASE_NAME")}
    if config.env_bool("JOINEDUP_PG_PREPARED", default=True):
        # Parameters bound by the server, and a statement run five times on a connection is
        # prepared there: the hot reads (a token, a person, the audit append) skip planning
        # (ADR 26). Switch off behind a transaction-pooling proxy such as PgBouncer's.
        DATABASES["default"]["OPTIONS"] = {"server_side_binding": True, "prepare_threshold": 5}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": config.env_str("JOINEDUP_SQLITE_PATH") or str(VAR_DIR / "joinedup.sqlite3"),
            # Keep each worker's connection (opening one, with its pragmas, costs ~6 ms).
            "CONN_MAX_AGE": 60,
            "OPTIONS": {
                # IMMEDIATE makes every write transaction take the lock up front, so two
                # writers can never fork the audit chain.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Mail (the citizens' register sends confirmation and manage links). Outside production the
# messages are printed to the console; production sends through the named SMTP server.
DEFAULT_FROM_EMAIL = config.env_str("JOINEDUP_EMAIL_FROM") or "joinedup <no-reply@localhost>"
EMAIL_HOST = config.env_str("JOINEDUP_EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = config.env_int("JOINEDUP_EMAIL_PORT", default=587, minimum=1)
    EMAIL_HOST_USER = config.env_str("JOINEDUP_EMAIL_USER") or ""
    EMAIL_HOST_PASSWORD = config.env_str("JOINEDUP_EMAIL_PASSWORD") or ""
    EMAIL_USE_TLS = True
elif PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"  # logged as not sent
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "core:sign-in"
LOGIN_REDIRECT_URL = "web:home"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in protection and access rules.
LOCKOUT_ATTEMPTS = config.env_int("JOINEDUP_LOCKOUT_ATTEMPTS", default=5, minimum=1)
LOCKOUT_MINUTES = config.env_int("JOINEDUP_LOCKOUT_MINUTES", default=15, minimum=1)
BREAK_GLASS_MINUTES = config.env_int("JOINEDUP_BREAK_GLASS_MINUTES", default=240, minimum=5)
# Posts an hour from one address to each public form (front door, citizens' register).
PUBLIC_FORM_POSTS_PER_HOUR = config.env_int(
    "JOINEDUP_PUBLIC_FORM_POSTS_PER_HOUR", default=30, minimum=1
)

# OpenID Connect (NHS Care Identity Service 2 speaks OIDC); off unless an issuer is set.
OIDC_ISSUER = (config.env_str("JOINEDUP_OIDC_ISSUER") or "").rstrip("/")
OIDC_CLIENT_ID = config.env_str("JOINEDUP_OIDC_CLIENT_ID") or ""
OIDC_CLIENT_SECRET = config.env_str("JOINEDUP_OIDC_CLIENT_SECRET") or ""
OIDC_SCOPES = config.env_str("JOINEDUP_OIDC_SCOPES") or "openid profile"
OIDC_USERNAME_CLAIM = config.env_str("JOINEDUP_OIDC_USERNAME_CLAIM") or "sub"
OIDC_ENABLED = bool(OIDC_ISSUER)
if OIDC_ENABLED and not (OIDC_CLIENT_ID and OIDC_CLIENT_SECRET):
    raise ConfigurationError(
        "JOINEDUP_OIDC_CLIENT_ID and JOINEDUP_OIDC_CLIENT_SECRET must be set with "
        "JOINEDUP_OIDC_ISSUER",
        where="JOINEDUP_OIDC_CLIENT_ID",
    )

# Sessions, cookies and transport security.
SECURE_COOKIES = config.env_bool("JOINEDUP_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working shift
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_NAME = "joinedup_session"
CSRF_COOKIE_NAME = "joinedup_csrf"
CSRF_FAILURE_VIEW = "joinedup.web.errors.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = config.env_bool("JOINEDUP_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = 31_536_000 if PRODUCTION else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
BEHIND_PROXY = config.env_bool("JOINEDUP_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/assets/"
STATIC_ROOT = VAR_DIR / "static"
# Installed by `make install` from the nhsuk-frontend npm package, beside the code.
VENDOR_ASSETS_DIR = BASE_DIR / "var" / "assets-vendor"
STATICFILES_DIRS = [VENDOR_ASSETS_DIR] if VENDOR_ASSETS_DIR.is_dir() else []
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "context": {"()": "joinedup.logs.RequestContextFilter"},
        "redact": {"()": "joinedup.logs.RedactFilter"},
    },
    "formatters": {
        "json": {"()": "joinedup.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context", "redact"],
            "formatter": config.env_choice(
                "JOINEDUP_LOG_FORMAT", ("json", "text"), "json" if PRODUCTION else "text"
            ),
        }
    },
    "root": {
        "handlers": ["console"],
        "level": config.env_choice(
            "JOINEDUP_LOG_LEVEL", ("debug", "info", "warning", "error"), "info"
        ).upper(),
    },
    "loggers": {
        # Django's request logger repeats the path with its query string; ours logs a redacted line.
        "django.request": {"level": "ERROR", "propagate": True},
        "django.server": {"level": "WARNING", "propagate": True},
        # Splink narrates every blocking and training step at INFO.
        "splink": {"level": "WARNING", "propagate": True},
    },
}
