"""All configuration in one place, read from EJOURNAL_* environment variables."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EJOURNAL_", extra="ignore")

    # sqlite:///path/file.db (default var/ejournal.db) or postgresql://user@host:port/db
    database_url: str = "sqlite:///var/ejournal.db"
    # PostgreSQL schema for every table (tests use one schema each).
    postgres_schema: str = "public"
    postgres_pool_size: int = 10
    # How long a write waits for a busy or unreachable store before answering 503
    # store-busy (SQLite busy timeout; PostgreSQL lock, pool and connect timeouts).
    store_busy_seconds: int = Field(default=5, ge=1, le=60)
    env: str = "development"
    var_dir: Path = Path("var")
    # The Ed25519 key that signs closed years' manifests, outside the database; `ejournal keys
    # init` makes it, closing a year makes it when missing. Default: <var_dir>/keys/...pem.
    signing_key_path: Path | None = None
    # Token signing secret; generated under var/ on first run when empty.
    secret_key: str = ""
    access_token_minutes: int = 30
    # The organisation's day: "today" for deadlines is the school's day, not the server's.
    timezone: str = "Asia/Yekaterinburg"
    # argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536
    aggregate_cache_size: int = 2000
    # Optional AES-GCM key for events at rest (eventsourcing's CIPHER_KEY), base64.
    cipher_key: str = ""
    log_level: str = "INFO"
    # Follow the read models inside the server (false: run `ejournal projections run`).
    run_projections: bool = True
    # How long a read with min_position waits for read models (seconds).
    read_wait_seconds: float = Field(default=2.0, le=2.0)
    # `ejournal serve` worker processes; 0 means one per CPU core (os.cpu_count()).
    workers: int = Field(default=0, ge=0)
    # A worker whose event loop has not ticked for this long (hung) is killed and replaced
    # by the supervisor of `serve --workers N` (api/supervisor.py).
    worker_timeout_seconds: float = Field(default=60.0, gt=0)

    # --- Request body limits (issue 11) ---
    # Bodies over these sizes are refused with 413 payload-too-large while they stream in,
    # before they are parsed (api/body_limit.py): every call, and POST /api/v1/import.
    max_body_bytes: int = Field(default=1_048_576, ge=0)
    max_import_body_bytes: int = Field(default=50 * 1_048_576, ge=0)
    # An uploaded year archive checked on the /archive page (streamed to a temporary file).
    max_archive_body_bytes: int = Field(default=1024 * 1_048_576, ge=0)

    # --- Login throttling and client address (issue 11) ---
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs,
    # e.g. "127.0.0.1"); empty: no forwarding header is trusted, the TCP peer is the client.
    trusted_proxies: str = ""
    # Failed logins from one client address (all usernames) per 15 minutes before that
    # address is throttled for new devices; sized for a school behind one NAT address.
    login_address_failures: int = Field(default=200, ge=5)
    # Lifetime of the device cookie (ejournal_device) set by a successful login; a device that
    # presents it is not throttled by failures of other devices or usernames.
    device_cookie_days: int = Field(default=180, ge=1, le=400)

    # --- Web pages (issue 12) ---
    # A page session slides while used; it ends after this many idle minutes, and after
    # session_max_hours at most. EJOURNAL_HTTPS=true marks the cookies Secure.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    https: bool = False

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def archive_key_path(self) -> Path:
        return self.signing_key_path or self.var_dir / "keys" / "archive-signing-key.pem"

    def signing_secret(self) -> str:
        """The configured secret, or one generated once and kept in var/secret_key."""
        if self.secret_key:
            return self.secret_key
        import secrets

        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
