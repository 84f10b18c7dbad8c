"""The project's settings: every environment variable it reads, read here and nowhere else.

:meth:`Settings.from_env` reads them when asked (never at import time), so a process that changes
its environment, or a test, gets what is set now. Dagster resources receive theirs through
``dg.EnvVar`` (see ``ebay_pipelines.definitions``), so the UI shows where a value comes from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
DAGSTER_URL_ENV = "EBAY_PIPELINES_DAGSTER_URL"
#: eBay's own variables, whose meaning ``ebay.config.EbaySettings.from_env`` defines.
EBAY_CLIENT_ID_ENV = "EBAY_CLIENT_ID"
EBAY_CLIENT_SECRET_ENV = "EBAY_CLIENT_SECRET"
EBAY_ENVIRONMENT_ENV = "EBAY_ENVIRONMENT"
EBAY_API_BASE_URL_ENV = "EBAY_API_BASE_URL"

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
    DAGSTER_URL_ENV,
    EBAY_CLIENT_ID_ENV,
    EBAY_CLIENT_SECRET_ENV,
    EBAY_ENVIRONMENT_ENV,
    EBAY_API_BASE_URL_ENV,
    "DAGSTER_HOME",
)

DEFAULT_HOME = Path.home() / ".ebay-pipelines" / "dagster_home"
#: Inside every API's reach for a while: Post-Order searches and payment disputes go back 18 months
#: (until mid-2027 for this day), getOrders two years, Finances five.
DEFAULT_START_DATE = date(2026, 1, 1)


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


def _day(env: Mapping[str, str], name: str, default: date) -> date:
    text = _text(env, name)
    if text is None:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"{name} must be a day (YYYY-MM-DD), not {text!r}") from None


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
    dagster_url: str = "http://127.0.0.1:3000"
    ebay_environment: str = "production"
    ebay_api_base_url: str | None = None
    ebay_client_id: str | None = None
    ebay_client_secret: str | None = field(default=None, repr=False)
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
            dagster_url=_text(env, DAGSTER_URL_ENV) or "http://127.0.0.1:3000",
            ebay_environment=(_text(env, EBAY_ENVIRONMENT_ENV) or "production").lower(),
            ebay_api_base_url=_text(env, EBAY_API_BASE_URL_ENV),
            ebay_client_id=_text(env, EBAY_CLIENT_ID_ENV),
            ebay_client_secret=_text(env, EBAY_CLIENT_SECRET_ENV),
            configured=frozenset(name for name in ALL_VARIABLES if _text(env, name)),
        )

    @property
    def ebay_keys_configured(self) -> bool:
        """Whether eBay application keys (or a stand-in eBay) are configured."""
        return bool(self.ebay_client_id or self.ebay_api_base_url)


def current() -> Settings:
    """The settings as the environment says now."""
    return Settings.from_env()


def dagster_home() -> Path:
    """Return the Dagster home folder (``$DAGSTER_HOME``, else ``~/.ebay-pipelines/dagster_home``)."""
    return current().dagster_home


def configured_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DATABASE_URL`` or None when the embedded server should be used."""
    return current().database_url


def configured_dagster_database_url() -> str | None:
    """Return ``$EBAY_PIPELINES_DAGSTER_DATABASE_URL`` (Dagster's own storage) or None."""
    return current().dagster_database_url
