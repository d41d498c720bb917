"""Settings, read from the environment. Every variable is documented in README.md."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from .balance_limits import parse_networks


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def read_or_create_secret(instance_path: str, filename: str, nbytes: int = 32) -> str:
    """Return the secret kept in the instance folder, generating it (mode 0600) on first use."""
    path = Path(instance_path) / filename
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(nbytes))
    return path.read_text().strip()


class Config:
    """Production defaults; the environment overrides them."""

    TESTING = False
    # No ping before each checkout (a round trip on every request): a connection the
    # server dropped (a restart, a failover) fails its request with 503 and Retry-After,
    # and SQLAlchemy then replaces every pooled connection at once. Nothing half-written
    # can come of it: the transaction never committed, and a retried redemption carries
    # the same Idempotency-Key. Connections are also renewed every half hour.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": False, "pool_recycle": 1800}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_NAME = "voucher_session"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    BENEFICIARY_SESSION_MINUTES = 10
    WTF_CSRF_TIME_LIMIT = None
    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    LANGUAGES = ("it", "en")
    API_TITLE = "Buoni servizio sociali"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_TOKEN_TTL = timedelta(hours=8)
    PIN_MAX_ATTEMPTS = 5
    PIN_LOCK_MINUTES = 15
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "fixed-window"

    def __init__(self, instance_path: str):
        env = os.environ
        self.SQLALCHEMY_DATABASE_URI = env.get("DATABASE_URL") or (
            "sqlite:///" + str(Path(instance_path) / "voucher.sqlite3")
        )
        self.SECRET_KEY = env.get("SECRET_KEY") or read_or_create_secret(
            instance_path, "secret_key"
        )
        self.PIN_PEPPER = env.get("PIN_PEPPER") or read_or_create_secret(
            instance_path, "pin_pepper"
        )
        self.SIGNING_KEYS_DIR = env.get("SIGNING_KEYS_DIR") or str(
            Path(instance_path) / "signing-keys"
        )
        self.SIGNING_KEY_PEM = env.get("SIGNING_KEY")
        self.PUBLIC_URL = env.get("PUBLIC_URL", "").rstrip("/")
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # A staff session ends this long after sign-in, however busy (not an idle limit).
        self.STAFF_SESSION_LIFETIME = timedelta(hours=float(env.get("STAFF_SESSION_HOURS", "8")))
        self.PERMANENT_SESSION_LIFETIME = self.STAFF_SESSION_LIFETIME
        # Counters shared by every worker: Redis when configured, else the database itself.
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "voucher+db://")
        self.RATELIMIT_STORAGE_OPTIONS = (
            {"url": self.SQLALCHEMY_DATABASE_URI}
            if self.RATELIMIT_STORAGE_URI.startswith("voucher+db")
            else {}
        )
        self.RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")
        self.TRUSTED_PROXIES = int(env.get("TRUSTED_PROXIES", "0"))
        # The proxies whose X-Forwarded-* headers are believed: gunicorn's own setting.
        self.FORWARDED_ALLOW_IPS = env.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
        # Bulk issuance: a thread in each web process, unless `flask worker` runs apart.
        self.BATCH_WORKER_THREAD = _bool("BATCH_WORKER_THREAD", True)
        self.BATCH_CHUNK_SIZE = int(env.get("BATCH_CHUNK_SIZE", "200"))
        self.BATCH_LEASE_SECONDS = int(env.get("BATCH_LEASE_SECONDS", "300"))
        # The batch letters hold PINs in clear: downloaded once, else deleted after this many days.
        self.BATCH_LETTERS_KEEP_DAYS = max(0, int(env.get("BATCH_LETTERS_KEEP_DAYS", "7")))
        # Balance checks (code and PIN) a minute from one address (voucher.balance_limits): the
        # /saldo form (and five times that an hour), the API; the ente's office networks (CIDR,
        # comma-separated) get the much higher office limit. Wrong PINs lock each code anyway.
        self.BALANCE_CHECKS_PER_ADDRESS = int(env.get("BALANCE_CHECKS_PER_ADDRESS", "10"))
        self.API_BALANCE_CHECKS_PER_ADDRESS = int(env.get("API_BALANCE_CHECKS_PER_ADDRESS", "30"))
        self.OFFICE_NETWORKS = parse_networks(env.get("OFFICE_NETWORKS", ""))
        self.OFFICE_BALANCE_CHECKS_PER_ADDRESS = int(
            env.get("OFFICE_BALANCE_CHECKS_PER_ADDRESS", "600")
        )
        # Wrong PINs a staff member may type on the letter-with-PIN form in an hour.
        self.STAFF_PIN_CHECKS_PER_HOUR = max(1, int(env.get("STAFF_PIN_CHECKS_PER_HOUR", "10")))
        # Retention (voucher.services.retention); the ente's own settings override both.
        self.RETENTION_PERSONAL_YEARS = int(env.get("RETENTION_PERSONAL_YEARS", "5"))
        self.RETENTION_ACCOUNTING_YEARS = int(env.get("RETENTION_ACCOUNTING_YEARS", "10"))
        # The key of the pseudonyms that replace fiscal codes: derived from PIN_PEPPER unless set.
        self.PSEUDONYM_KEY = env.get("PSEUDONYM_KEY") or None
        # Citizens' sign-in with SPID and CIE (voucher.spid, docs/spid.md).
        spid_dir = Path(instance_path) / "spid"
        self.SPID_KEY_FILE = env.get("SPID_KEY_FILE") or str(spid_dir / "sp.key")
        self.SPID_CERT_FILE = env.get("SPID_CERT_FILE") or str(spid_dir / "sp.crt")
        self.SPID_IDP_METADATA_DIR = env.get("SPID_IDP_METADATA_DIR") or str(spid_dir / "idp")
        self.SPID_IDP_METADATA_URL = env.get(
            "SPID_IDP_METADATA_URL", "https://registry.spid.gov.it/entities-idp?output=json"
        )
        self.CIE_IDP_METADATA_DIR = env.get("CIE_IDP_METADATA_DIR") or str(spid_dir / "cie-idp")
        self.CIE_IDP_METADATA_URL = env.get(
            "CIE_IDP_METADATA_URL", "https://idserver.servizicie.interno.gov.it/idp/shibboleth"
        )
        self.SPID_LEVEL = int(env.get("SPID_LEVEL", "2"))
        self.CIE_LEVEL = int(env.get("CIE_LEVEL", "2"))
        self.SPID_IPA_CODE = env.get("SPID_IPA_CODE", "")
        self.SPID_ORGANIZATION_NAME = env.get("SPID_ORGANIZATION_NAME", "")
        self.SPID_CONTACT_EMAIL = env.get("SPID_CONTACT_EMAIL", "")
        self.SPID_CONTACT_PHONE = env.get("SPID_CONTACT_PHONE", "")
        self.SPID_MUNICIPALITY = env.get("SPID_MUNICIPALITY", "")  # ISTAT code, for CIE
        self.SPID_CLOCK_SKEW_SECONDS = int(env.get("SPID_CLOCK_SKEW_SECONDS", "120"))
        self.CITIZEN_SESSION_MINUTES = int(env.get("CITIZEN_SESSION_MINUTES", "30"))
        # The hashed, compressed static files (voucher.web.assets); None: build/static.
        self.STATIC_BUILD_DIR = env.get("STATIC_BUILD_DIR") or None
        # Notifications to beneficiaries (voucher.notifications): the worker, the queue,
        # the low-balance threshold, SMTP and App IO (no key: no IO messages).
        self.NOTIFY_ENABLED = _bool("NOTIFY_ENABLED", True)
        self.NOTIFY_WORKER_THREAD = _bool("NOTIFY_WORKER_THREAD", True)
        self.NOTIFY_QUEUE_URL = env.get("NOTIFY_QUEUE_URL", "")
        self.NOTIFY_LOW_BALANCE_PERCENT = int(env.get("NOTIFY_LOW_BALANCE_PERCENT", "20"))
        self.SMTP_HOST = env.get("SMTP_HOST", "")
        self.SMTP_PORT = int(env.get("SMTP_PORT", "25"))
        self.SMTP_STARTTLS = _bool("SMTP_STARTTLS", False)
        self.SMTP_USERNAME = env.get("SMTP_USERNAME", "")
        self.SMTP_PASSWORD = env.get("SMTP_PASSWORD", "")
        self.MAIL_FROM = env.get("MAIL_FROM", "Buoni servizio <noreply@localhost>")
        self.MAIL_MESSAGE_ID_DOMAIN = env.get("MAIL_MESSAGE_ID_DOMAIN", "")
        self.IO_API_URL = env.get("IO_API_URL", "https://api.io.pagopa.it/api/v1")
        self.IO_API_KEY = env.get("IO_API_KEY", "")
        # The audit chain (PostgreSQL): the sequencer links events in a thread of the web
        # process (the embedded default; one process chains, elected by an advisory lock)
        # or in `flask --app voucher worker`; `audit verify` fails when an event waits
        # longer than AUDIT_TAIL_MAX_SECONDS. AUDIT_CHAIN_AT_COMMIT: each transaction links
        # its own events before it commits (the tests; it serialises every writer).
        self.AUDIT_SEQUENCER_THREAD = _bool("AUDIT_SEQUENCER_THREAD", True)
        self.AUDIT_TAIL_MAX_SECONDS = float(env.get("AUDIT_TAIL_MAX_SECONDS", "10"))
        self.AUDIT_CHAIN_AT_COMMIT = _bool("AUDIT_CHAIN_AT_COMMIT", False)
        # POST /api/v1/redemptions: the accepted case as one prepared statement in
        # autocommit, on connections of its own; false: in the request's transaction.
        self.REDEEM_IN_AUTOCOMMIT = _bool("REDEEM_IN_AUTOCOMMIT", True)


class DevelopmentConfig(Config):
    """Local runs over plain HTTP on localhost."""

    def __init__(self, instance_path: str):
        super().__init__(instance_path)
        self.SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
        self.REMEMBER_COOKIE_SECURE = self.SESSION_COOKIE_SECURE
        # Static files read from disk at each request: an edited file shows at once.
        self.STATIC_AUTOREFRESH = _bool("STATIC_AUTOREFRESH", True)


class TestingConfig(Config):
    """The test suite: fast hashing, no rate limits unless a test turns them on."""

    TESTING = True
    WTF_CSRF_ENABLED = False
    # Hashing strength is not under test; scrypt would dominate the suite's run time.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # noqa: S105 - a method name, not a secret

    def __init__(self, instance_path: str):
        super().__init__(instance_path)
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.RATELIMIT_ENABLED = False
        self.BATCH_WORKER_THREAD = False  # tests run batches synchronously
        self.NOTIFY_WORKER_THREAD = False  # tests relay and deliver when they choose
        # Each test reads the chain right after its commits; the sequencer's own tests
        # (and the concurrency tests) run it as production does.
        self.AUDIT_SEQUENCER_THREAD = False
        self.AUDIT_CHAIN_AT_COMMIT = True
        self.REDEEM_IN_AUTOCOMMIT = False  # in the test's transaction
        # Pages link the plain static names whatever was built; the build's tests pass a folder.
        self.STATIC_BUILD_DIR = ""


CONFIGS = {
    "production": Config,
    "development": DevelopmentConfig,
    "testing": TestingConfig,
}
