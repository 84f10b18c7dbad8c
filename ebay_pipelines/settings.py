"""The project's settings: every environment variable it reads, read here and nowhere else.

:meth:`Settings.from_env` reads them when asked (never at import time), so a process that changes
its environment, or a test, gets what is set now. Dagster resources receive theirs through
``dg.EnvVar`` (see ``ebay_pipelines.definitions``), so the UI shows where a value comes from.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

DATABASE_URL_ENV = "EBAY_PIPELINES_DATABASE_URL"
DAGSTER_DATABASE_URL_ENV = "EBAY_PIPELINES_DAGSTER_DATABASE_URL"
DAGSTER_PG_URL_ENV = "EBAY_PIPELINES_DAGSTER_PG_URL"
SECRET_KEY_ENV = "EBAY_PIPELINES_SECRET_KEY"
START_DATE_ENV = "EBAY_PIPELINES_START_DATE"
BACKFILL_RUNS_PER_TICK_ENV = "EBAY_PIPELINES_BACKFILL_RUNS_PER_TICK"
BACKFILL_DAYS_PER_RUN_ENV = "EBAY_PIPELINES_BACKFILL_DAYS_PER_RUN"
STEP_RETRIES_ENV = "EBAY_PIPELINES_STEP_RETRIES"
STALE_RUN_MINUTES_ENV = "EBAY_PIPELINES_STALE_RUN_MINUTES"
OPEN_REFRESH_MINUTES_ENV = "EBAY_PIPELINES_OPEN_REFRESH_MINUTES"
QUOTA_RESERVE_ENV = "EBAY_PIPELINES_QUOTA_RESERVE"
DAGSTER_URL_ENV = "EBAY_PIPELINES_DAGSTER_URL"
#: The code server (HOST:PORT) `ebay-pipelines serve webserver|daemon` loads the definitions from.
CODE_SERVER_ENV = "EBAY_PIPELINES_CODE_SERVER"
PARTITION_GRAIN_ENV = "EBAY_PIPELINES_PARTITION_GRAIN"
ACCOUNTS_PER_RUN_ENV = "EBAY_PIPELINES_ACCOUNTS_PER_RUN"
ACCOUNT_THREADS_ENV = "EBAY_PIPELINES_ACCOUNT_THREADS"
DAGSTER_STORAGE_POOL_ENV = "EBAY_PIPELINES_DAGSTER_STORAGE_POOL"
#: eBay's own variables, whose meaning ``ebay.config.EbaySettings.from_env`` defines.
EBAY_CLIENT_ID_ENV = "EBAY_CLIENT_ID"
EBAY_CLIENT_SECRET_ENV = "EBAY_CLIENT_SECRET"
EBAY_ENVIRONMENT_ENV = "EBAY_ENVIRONMENT"
EBAY_API_BASE_URL_ENV = "EBAY_API_BASE_URL"
#: Marketplace Account Deletion: the token given to eBay with the endpoint, and the endpoint's public URL.
NOTIFICATION_TOKEN_ENV = "EBAY_NOTIFICATION_VERIFICATION_TOKEN"
NOTIFICATION_ENDPOINT_ENV = "EBAY_NOTIFICATION_ENDPOINT_URL"
#: The application's RuName: eBay's name of its redirect URLs (``accounts connect``).
EBAY_RU_NAME_ENV = "EBAY_RU_NAME"

ALL_VARIABLES = (
    DATABASE_URL_ENV,
    DAGSTER_DATABASE_URL_ENV,
    SECRET_KEY_ENV,
    START_DATE_ENV,
    BACKFILL_RUNS_PER_TICK_ENV,
    BACKFILL_DAYS_PER_RUN_ENV,
    STEP_RETRIES_ENV,
    STALE_RUN_MINUTES_ENV,
    OPEN_REFRESH_MINUTES_ENV,
    QUOTA_RESERVE_ENV,
    DAGSTER_URL_ENV,
    CODE_SERVER_ENV,
    PARTITION_GRAIN_ENV,
    ACCOUNTS_PER_RUN_ENV,
    ACCOUNT_THREADS_ENV,
    EBAY_CLIENT_ID_ENV,
    EBAY_CLIENT_SECRET_ENV,
    EBAY_ENVIRONMENT_ENV,
    EBAY_API_BASE_URL_ENV,
    NOTIFICATION_TOKEN_ENV,
    NOTIFICATION_ENDPOINT_ENV,
    EBAY_RU_NAME_ENV,
    "DAGSTER_HOME",
)

DEFAULT_HOME = Path.home() / ".ebay-pipelines" / "dagster_home"
#: Inside every API's reach for a while: Post-Order searches and payment disputes go back 18 months
#: (until mid-2027 for this day), getOrders two years, Finances five.
DEFAULT_START_DATE = date(2026, 1, 1)
#: The time grains of window partitions (one partition per account and period).
PARTITION_GRAINS = ("day", "week", "month")
DEFAULT_ACCOUNT_THREADS = 8


class SettingsError(ValueError):
    """An environment variable holds a value the project cannot use."""


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    return value or None


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    text = _text(env, name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {text!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _divisor_of_hour(env: Mapping[str, str], name: str, default: int) -> int:
    value = _int(env, name, default, 5)
    if 60 % value:
        divisors = ", ".join(str(d) for d in range(5, 61) if 60 % d == 0)
        raise SettingsError(f"{name} must divide an hour ({divisors}), not {value}")
    return value


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    text = _text(env, name)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a share between 0 and 1 (e.g. 0.05), not {text!r}") from None
    if not 0 <= value < 1:
        raise SettingsError(f"{name} must be a share between 0 and 1 (e.g. 0.05), not {text!r}")
    return value


def _grain(env: Mapping[str, str], name: str) -> str:
    text = (_text(env, name) or "day").lower()
    if text not in PARTITION_GRAINS:
        raise SettingsError(f"{name} must be one of {', '.join(PARTITION_GRAINS)}, not {text!r}")
    return text


def _day(env: Mapping[str, str], name: str, default: date) -> date:
    text = _text(env, name)
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"{name} must be a day (YYYY-MM-DD), not {text!r}") from None


def _verification_token(env: Mapping[str, str], name: str) -> str | None:
    text = _text(env, name)
    if text is not None and not re.fullmatch(r"[A-Za-z0-9_-]{32,80}", text):
        raise SettingsError(
            f"{name} must be 32 to 80 characters of A-Z, a-z, 0-9, '_' and '-' (eBay's rule), "
            f"not {len(text)} characters{'' if re.fullmatch(r'[A-Za-z0-9_-]*', text) else ' with others'}"
        )
    return text


def _endpoint_url(env: Mapping[str, str], name: str) -> str | None:
    text = _text(env, name)
    if text is None:
        return None
    host = urlsplit(text).hostname or ""
    if not text.startswith("https://") or not host:
        raise SettingsError(
            f"{name} must be the endpoint's public https:// URL (eBay calls no plain HTTP), not {text!r}"
        )
    try:
        private = not ipaddress.ip_address(host).is_global
    except ValueError:
        private = host == "localhost" or host.endswith(".localhost")
    if private:
        raise SettingsError(f"{name} must be a public address (eBay calls no private or local one), not {host!r}")
    return text


@dataclass(frozen=True)
class Settings:
    """Every setting of the project (secrets are left out of ``repr``)."""

    database_url: str | None = None
    dagster_database_url: str | None = None
    dagster_home: Path = DEFAULT_HOME
    secret_key: str | None = field(default=None, repr=False)
    start_date: date = DEFAULT_START_DATE
    backfill_runs_per_tick: int = 20
    backfill_days_per_run: int = 31
    step_retries: int = 2
    stale_run_minutes: int = 30
    #: How often open problems (inquiries, cases, disputes, returns) are re-read: a divisor of 60, 5 or more.
    open_refresh_minutes: int = 30
    #: The share of each eBay daily quota kept in reserve: a family whose quota has less left is skipped.
    quota_reserve: float = 0.05
    dagster_url: str = "http://127.0.0.1:3000"
    #: The period of a window partition: ``day``, ``week`` (from Monday) or ``month`` (see ``defs.partitions``).
    partition_grain: str = "day"
    #: Accounts one scheduled or backfill run syncs (one family each).
    accounts_per_run: int = 50
    #: Accounts a run syncs at once (threads waiting on eBay and PostgreSQL).
    account_threads: int = DEFAULT_ACCOUNT_THREADS
    ebay_environment: str = "production"
    ebay_api_base_url: str | None = None
    ebay_client_id: str | None = None
    ebay_client_secret: str | None = field(default=None, repr=False)
    #: What eBay hashes into the endpoint challenge: 32-80 of A-Z, a-z, 0-9, '_' and '-'.
    notification_verification_token: str | None = field(default=None, repr=False)
    #: The deletion endpoint's public HTTPS URL, exactly as registered with eBay.
    notification_endpoint_url: str | None = None
    ebay_ru_name: str | None = None
    #: The names of the variables that were set (non-empty) when these settings were read.
    configured: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every setting from ``environ`` (default: the process environment), checking each."""
        env = os.environ if environ is None else environ
        home = _text(env, "DAGSTER_HOME")
        return cls(
            database_url=_text(env, DATABASE_URL_ENV),
            dagster_database_url=_text(env, DAGSTER_DATABASE_URL_ENV),
            dagster_home=Path(home).expanduser().resolve() if home else DEFAULT_HOME,
            secret_key=_text(env, SECRET_KEY_ENV),
            start_date=_day(env, START_DATE_ENV, DEFAULT_START_DATE),
            backfill_runs_per_tick=_int(env, BACKFILL_RUNS_PER_TICK_ENV, 20, 1),
            backfill_days_per_run=_int(env, BACKFILL_DAYS_PER_RUN_ENV, 31, 1),
            step_retries=_int(env, STEP_RETRIES_ENV, 2, 0),
            stale_run_minutes=_int(env, STALE_RUN_MINUTES_ENV, 30, 1),
            open_refresh_minutes=_divisor_of_hour(env, OPEN_REFRESH_MINUTES_ENV, 30),
            quota_reserve=_share(env, QUOTA_RESERVE_ENV, 0.05),
            dagster_url=_text(env, DAGSTER_URL_ENV) or "http://127.0.0.1:3000",
            partition_grain=_grain(env, PARTITION_GRAIN_ENV),
            accounts_per_run=_int(env, ACCOUNTS_PER_RUN_ENV, 50, 1),
            account_threads=_int(env, ACCOUNT_THREADS_ENV, DEFAULT_ACCOUNT_THREADS, 1),
            ebay_environment=(_text(env, EBAY_ENVIRONMENT_ENV) or "production").lower(),
            ebay_api_base_url=_text(env, EBAY_API_BASE_URL_ENV),
            ebay_client_id=_text(env, EBAY_CLIENT_ID_ENV),
            ebay_client_secret=_text(env, EBAY_CLIENT_SECRET_ENV),
            notification_verification_token=_verification_token(env, NOTIFICATION_TOKEN_ENV),
            notification_endpoint_url=_endpoint_url(env, NOTIFICATION_ENDPOINT_ENV),
            ebay_ru_name=_text(env, EBAY_RU_NAME_ENV),
            configured=frozenset(name for name in ALL_VARIABLES if _text(env, name)),
        )

    def notification_endpoint(self) -> tuple[str, str]:
        """The verification token and endpoint URL of the deletion endpoint; a clear error when one is unset."""
        missing = [
            name
            for name, value in (
                (NOTIFICATION_TOKEN_ENV, self.notification_verification_token),
                (NOTIFICATION_ENDPOINT_ENV, self.notification_endpoint_url),
            )
            if not value
        ]
        if missing:
            raise SettingsError(f"the deletion endpoint needs {' and '.join(missing)}")
        assert self.notification_verification_token and self.notification_endpoint_url
        return self.notification_verification_token, self.notification_endpoint_url

    @property
    def ebay_keys_configured(self) -> bool:
        """Whether eBay application keys (or a stand-in eBay) are configured."""
        return bool(self.ebay_client_id or self.ebay_api_base_url)


def current() -> Settings:
    """The settings as the environment says now."""
    return Settings.from_env()


def account_threads(environ: Mapping[str, str] | None = None) -> int:
    """``EBAY_PIPELINES_ACCOUNT_THREADS`` alone (connection pools are sized from it), the default when unusable."""
    try:
        return _int(os.environ if environ is None else environ, ACCOUNT_THREADS_ENV, DEFAULT_ACCOUNT_THREADS, 1)
    except SettingsError:
        return DEFAULT_ACCOUNT_THREADS


def dagster_storage_pool(environ: Mapping[str, str] | None = None) -> bool:
    """``EBAY_PIPELINES_DAGSTER_STORAGE_POOL``: whether a run worker pools its Dagster storage connections (``on``).

    ``off`` suits a process that creates many instances (a test session): Dagster does not close a
    pooled storage's connections when its instance is disposed.
    """
    value = (os.environ if environ is None else environ).get(DAGSTER_STORAGE_POOL_ENV, "on").strip().lower()
    if value not in ("on", "off"):
        raise SettingsError(f"{DAGSTER_STORAGE_POOL_ENV} must be on or off, not {value!r}")
    return value == "on"


#: Dagster's switch for storing a step's partition materializations in one batch (its default 0: one by one).
DAGSTER_EVENT_BATCH_ENV = "DAGSTER_EVENT_BATCH_SIZE"
#: Materializations per batch: a range run or a run of many accounts stores them in one statement each.
DAGSTER_EVENT_BATCH_SIZE = "1000"


def with_dagster_event_batching(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus Dagster's event batching, unless it sets its own ``DAGSTER_EVENT_BATCH_SIZE``.

    A run of 30 day partitions stores 60 materializations; one by one each is a transaction of
    its own (about 2 s of a range run), batched they are one.
    """
    return {DAGSTER_EVENT_BATCH_ENV: DAGSTER_EVENT_BATCH_SIZE, **environ}


def dagster_home() -> Path:
    """Return the Dagster home folder (``$DAGSTER_HOME``, else ``~/.ebay-pipelines/dagster_home``)."""
    return current().dagster_home


def configured_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DATABASE_URL`` or None when the embedded server should be used."""
    return current().database_url


def configured_dagster_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DAGSTER_DATABASE_URL`` (Dagster's own storage) or None."""
    return current().dagster_database_url
