"""Settings read from the environment and validated once, at start."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the service can be told; see the configuration table in README.md."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL DSN; when unset, `shop serve` starts an embedded PostgreSQL.",
    )
    database_pooler: Literal["none", "transaction"] = Field(
        default="none",
        description=(
            "`transaction`: DATABASE_URL is a pooler in transaction mode (PgBouncer); the app"
            " then sends no session settings and uses no named prepared statements."
        ),
    )
    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 key (32+ bytes); unset: a per-deployment key kept in the database.",
    )
    jwt_ttl_seconds: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    host: str = "0.0.0.0"  # noqa: S104 - a container must listen beyond loopback
    port: int = Field(default=8080, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    bcrypt_rounds: int = Field(default=10, ge=4, le=15)
    hash_threads: int = Field(default=2, ge=1, le=32)
    hash_niceness: int = Field(default=10, ge=0, le=19)
    pool_min_size: int | None = Field(
        default=None, ge=0, le=200, description="unset: POOL_MAX_SIZE, a pool of fixed size"
    )
    pool_max_size: int = Field(default=16, ge=1, le=200)
    pool_acquire_timeout: float = Field(default=5.0, gt=0, le=60)
    statement_timeout_ms: int = Field(default=5000, ge=100, le=600_000)
    tx_attempts: int = Field(default=10, ge=1, le=100)
    db_connect_attempts: int = Field(default=30, ge=1, le=1000)
    login_max_failures: int = Field(
        default=5, ge=1, le=1000, description="attempts per name and address before backoff"
    )
    login_backoff_base_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="first wait after the free attempts; doubles"
    )
    login_lockout_seconds: int = Field(
        default=300, ge=1, le=86_400, description="longest wait between attempts (backoff cap)"
    )
    login_window_seconds: int = Field(
        default=900, ge=1, le=86_400, description="quiet time after which failures are forgotten"
    )
    login_name_max_failures: int = Field(
        default=100, ge=1, le=1_000_000, description="attempts per name from new addresses"
    )
    login_name_window_seconds: int = Field(default=3600, ge=1, le=7 * 86_400)
    trusted_proxies: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        default_factory=list,
        description="peers whose X-Forwarded-For names the client (comma-separated CIDRs)",
    )
    hash_wait_seconds: float = Field(
        default=2.0, gt=0, le=60, description="longest wait for a bcrypt thread before a 500"
    )
    keepalive_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_connections: int = Field(default=1000, ge=1, le=100_000)
    max_connections_per_address: int = Field(
        default=128,
        ge=1,
        le=100_000,
        description="open connections per client address per worker; TRUSTED_PROXIES exempt",
    )
    headers_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, description="from connecting to the first request's headers"
    )
    body_timeout_seconds: float = Field(
        default=10.0, gt=0, le=600, description="for a request body, plus the minimum rate's time"
    )
    body_min_bytes_per_second: int = Field(
        default=64 * 1024, ge=1024, le=1 << 30, description="one more second per so many bytes"
    )
    employee_directory: str | None = Field(
        default=None,
        description="file of the names that may register, or `database`; unset: anyone",
    )
    max_body_bytes: int = Field(default=16 * 1024, ge=1024, le=1024 * 1024)
    info_cache_size: int = Field(
        default=10_000,
        ge=0,
        le=1_000_000,
        description="/api/info bodies each worker keeps, re-sent while unchanged; 0: none.",
    )
    shutdown_grace_seconds: float = Field(default=10.0, ge=0, le=300)
    shutdown_linger_seconds: float = Field(
        default=0.0,
        ge=0,
        le=60,
        description="After SIGTERM, keep serving open connections (each answer closes its"
        " connection) this long with the listener closed; behind a balancer.",
    )
    worker_batch_size: int = Field(
        default=1000, ge=1, le=100_000, description="employees a grant to all credits per commit"
    )
    worker_batch_pause_seconds: float = Field(
        default=0.005, ge=0, le=60, description="`shop worker`'s pause between two batches"
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="how often an idle `shop worker` looks for work"
    )
    worker_cleanup_seconds: float = Field(
        default=60.0, gt=0, le=86_400, description="how often it removes what has expired"
    )
    embedded_pgdata: Path = Path(".shop-data/pgdata")
    log_level: str = "INFO"
    access_log: bool = True

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("employee_directory")
    @classmethod
    def _directory_exists(cls, value: str | None) -> str | None:
        if value is not None and value != "database" and not Path(value).is_file():
            raise ValueError("EMPLOYEE_DIRECTORY must be `database` or a readable file")
        return value

    @model_validator(mode="after")
    def _backoff_below_quiet_time(self) -> Settings:
        # Failures are forgotten after LOGIN_WINDOW_SECONDS without an attempt; a longest
        # wait as long as that would let a patient guesser start afresh after every wait.
        if self.login_lockout_seconds >= self.login_window_seconds:
            raise ValueError("LOGIN_LOCKOUT_SECONDS must be less than LOGIN_WINDOW_SECONDS")
        return self

    @field_validator("jwt_secret", "database_url", "employee_directory", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("jwt_secret")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("JWT_SECRET must be at least 32 bytes")
        return value

    @field_validator("database_url")
    @classmethod
    def _url_is_postgres(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must start with postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def pool_floor(self) -> int:
        """Connections a worker opens at start and keeps. By default all of them: a pool that
        grows on demand opens its connections at the busiest moment, many at once, and each
        costs PostgreSQL a backend to start and warm (ammo/results/efficiency/README.md)."""
        return self.pool_max_size if self.pool_min_size is None else self.pool_min_size

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.pool_min_size is not None and self.pool_min_size > self.pool_max_size:
            raise ValueError(
                f"POOL_MIN_SIZE ({self.pool_min_size}) must not exceed"
                f" POOL_MAX_SIZE ({self.pool_max_size})"
            )
        return self
