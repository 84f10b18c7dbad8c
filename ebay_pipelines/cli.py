"""The ``ebay-pipelines`` command line: development server, migrations, accounts, kill switch."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ebay_pipelines import settings
from ebay_pipelines.dev_server import DevSupervisor
from ebay_pipelines.ids import InvalidAccountId
from ebay_pipelines.instance import install_instance_config, install_workspace
from ebay_pipelines.store import migrate as migrations
from ebay_pipelines.store.accounts import (
    UnknownAccount,
    add_account,
    list_accounts,
    set_account_enabled,
    set_workers_enabled,
    workers_enabled,
)
from ebay_pipelines.store.database import DatabaseTarget, DatabaseUnavailable, cached_engine, prepare, resolve_target
from ebay_pipelines.store.secrets import SecretKeyError, load_cipher
from ebay_pipelines.store.urls import InvalidDatabaseUrl
from ebay_pipelines.sync.families import FAMILIES

EXPECTED_ERRORS = (
    DatabaseUnavailable,
    InvalidAccountId,
    UnknownAccount,
    InvalidDatabaseUrl,
    SecretKeyError,
    ValueError,
)


def _friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's expected errors into a one-line message and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EXPECTED_ERRORS as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def _ready_database() -> DatabaseTarget:
    """Resolve the databases, create them if needed, and apply migrations (idempotent)."""
    target = resolve_target()
    prepare(target)
    migrations.upgrade(target.ebay_url)
    return target


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug details.")
def main(verbose: bool) -> None:
    """Sync eBay seller data into PostgreSQL with Dagster."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


@main.command()
@_friendly_errors
def migrate() -> None:
    """Create the databases if needed and apply every migration (safe to run again)."""
    target = _ready_database()
    click.echo(f"database is at revision {migrations.current_revision(target.ebay_url)} ({target.describe()})")


def _dagster_environment(target: DatabaseTarget, home: Path) -> dict[str, str]:
    """Return the environment the Dagster processes run with."""
    # The Dagster processes inherit this process's environment, plus:
    env = settings.with_dagster_event_batching(os.environ)
    env["DAGSTER_HOME"] = str(home)
    env[settings.DATABASE_URL_ENV] = target.ebay_url
    env[settings.DAGSTER_PG_URL_ENV] = target.dagster_url
    return env


def _demo_wanted(demo: bool | None) -> bool:
    """The demo runs when asked, or by default when no eBay application keys are configured."""
    if demo is not None:
        return demo
    return not settings.current().ebay_keys_configured


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the Dagster UI binds to.")
@click.option("--port", default=3000, show_default=True, type=int, help="Port of the Dagster UI.")
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Start the eBay simulator with two demo accounts (default: when no eBay keys are set).",
)
@click.option("--simulator-port", default=0, type=int, help="Port of the demo simulator (0: any free port).")
@_friendly_errors
def dev(host: str, port: int, demo: bool | None, simulator_port: int) -> None:
    """Start the database, apply migrations and run the Dagster UI and daemon with this project.

    SIGTERM or Ctrl-C stops everything it started, in order, and exits 0.
    """
    with DevSupervisor() as supervisor:
        code = _serve(supervisor, host, port, demo, simulator_port)
    sys.exit(code)


def _serve(supervisor: DevSupervisor, host: str, port: int, demo: bool | None, simulator_port: int) -> int:
    """Start the database, the demo if wanted and ``dagster dev``; stop them all; return the exit code."""
    target = _ready_database()
    simulator = None
    try:
        home = settings.dagster_home()
        install_instance_config(home)
        env = _dagster_environment(target, home)
        click.echo(f"Dagster home: {home}")
        click.echo(target.describe())
        if _demo_wanted(demo) and not supervisor.stop_requested:
            from ebay_pipelines import demo as demo_setup

            simulator = demo_setup.start_simulator(simulator_port)
            env.update(demo_setup.simulator_environment(simulator))
            added = demo_setup.register_demo_accounts(cached_engine(target.ebay_url), load_cipher(), simulator)
            click.echo(
                f"demo: eBay simulator at {simulator.base_url}; demo accounts {', '.join(demo_setup.DEMO_ACCOUNTS)}"
                + (f" (registered {', '.join(added)})" if added else "")
            )
        click.echo(f"Dagster UI: http://{host}:{port}")
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "-w",
            str(install_workspace(home)),
            "-h",
            host,
            "-p",
            str(port),
        ]
        return supervisor.run(command, cwd=home, env=env)
    finally:
        if simulator is not None:
            simulator.stop()
        if target.embedded_data_dir is not None:
            from ebay_pipelines.store import embedded

            embedded.stop(target.embedded_data_dir)


@main.command("serve")
@click.argument("role", type=click.Choice(["code-server", "webserver", "daemon"]))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (code server, webserver).")
@click.option("--port", default=None, type=int, help="Port to bind (default: 4000 code server, 3000 webserver).")
@click.option(
    "--code-server",
    "code_server",
    default="127.0.0.1:4000",
    show_default=True,
    envvar=settings.CODE_SERVER_ENV,
    help="HOST:PORT of the code server the webserver and the daemon load the definitions from.",
)
@_friendly_errors
def serve_role(role: str, host: str, port: int | None, code_server: str) -> None:
    """Run one role of a split deployment: code-server, webserver or daemon, each its own process.

    Needs EBAY_PIPELINES_DATABASE_URL (and a migrated database for the code server). Installs the
    packaged instance configuration into $DAGSTER_HOME, then becomes the Dagster process.
    """
    import signal

    from ebay_pipelines import serve

    default_port = serve.DEFAULT_CODE_SERVER_PORT if role == serve.CODE_SERVER else serve.DEFAULT_WEBSERVER_PORT
    listen = serve.Address(host, port or default_port)
    command, env = serve.prepare_role(role, listen, serve.Address.parse(code_server), os.environ)
    click.echo(f"{role}: {' '.join(command[2:])}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # An ignored SIGINT survives exec, and Dagster maps SIGTERM onto SIGINT's disposition: started as
    # a script's background job, the role would then ignore both. Default dispositions let it stop.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    os.execve(command[0], command, env)


@main.group()
def accounts() -> None:
    """Register, list and disable eBay accounts."""


@accounts.command("add")
@click.argument("account_id")
@click.option("--refresh-token", required=True, help="The account's eBay OAuth refresh token (stored encrypted).")
@click.option("--ebay-user-id", default=None, help="The seller's eBay user id.")
@click.option("--marketplace", default="EBAY_US", show_default=True, help="eBay marketplace id.")
@click.option(
    "--signing/--no-signing",
    default=None,
    help="Sign Finances calls whatever the marketplace (EU/UK marketplaces always sign).",
)
@_friendly_errors
def accounts_add(
    account_id: str, refresh_token: str, ebay_user_id: str | None, marketplace: str, signing: bool | None
) -> None:
    """Register ACCOUNT_ID (or update it) with its refresh token."""
    from ebay_pipelines.ids import validate_account_id
    from ebay_pipelines.store.accounts import validate_marketplace

    validate_account_id(account_id)
    validate_marketplace(marketplace)
    target = _ready_database()
    add_account(
        cached_engine(target.ebay_url), load_cipher(), account_id, refresh_token, ebay_user_id, marketplace, signing
    )
    click.echo(f"account {account_id} registered ({marketplace})")


@accounts.command("connect")
@click.argument("account_id")
@click.argument("more_families", nargs=-1, metavar="")
@click.option("--marketplace", default=None, help="eBay marketplace id (default: the account's, else EBAY_US).")
@click.option(
    "--families",
    "families",
    multiple=True,
    help="Families to consent for (several after one --families, or comma-separated; default: all). "
    "The scopes an existing account already granted are kept.",
)
@click.option(
    "--redirect-url",
    default=None,
    help="The URL eBay redirected the browser to, answering the consent an earlier `accounts connect` printed.",
)
@click.option("--listen", default=None, metavar="HOST:PORT", help="Receive eBay's redirect on a local callback.")
@click.option("--timeout", default=300.0, show_default=True, type=float, help="Seconds --listen waits.")
@_friendly_errors
def accounts_connect(
    account_id: str,
    more_families: tuple[str, ...],
    marketplace: str | None,
    families: tuple[str, ...],
    redirect_url: str | None,
    listen: str | None,
    timeout: float,
) -> None:
    """Connect ACCOUNT_ID through eBay's consent page (or re-consent it, clearing its re-authorize state)."""
    from ebay_pipelines import connect as consent_flow
    from ebay_pipelines.callback import parse_listen, wait_for_redirect

    if more_families and not families:
        raise click.ClickException(f"unexpected arguments {' '.join(more_families)}: families follow --families")
    names = [name for value in (*families, *more_families) for name in value.replace(",", " ").split()]
    known = {spec.name for spec in FAMILIES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.ClickException(f"unknown api family {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if redirect_url and listen:
        raise click.ClickException("give --redirect-url or --listen, not both")
    address = parse_listen(listen) if listen else None
    target = _ready_database()
    engine, cipher = cached_engine(target.ebay_url), load_cipher()
    if redirect_url:
        # The second step: the redirect of the consent the first step printed.
        connected = consent_flow.finish(engine, cipher, consent_flow.load_pending(account_id), redirect_url)
        click.echo(connected.describe())
        return
    request = consent_flow.prepare(engine, account_id, marketplace, names or None)
    consent_flow.save_pending(request)
    click.echo("Open this URL in a browser, sign in as the seller and agree:")
    click.echo(request.url)
    if address:
        click.echo(f"waiting for eBay's redirect on http://{address[0]}:{address[1]} ...")
        redirect = wait_for_redirect(address[0], address[1], timeout)
    else:
        click.echo(
            f"Then paste the URL eBay redirected the browser to (or run `accounts connect {account_id} "
            "--redirect-url URL`):"
        )
        redirect = str(sys.stdin.readline()).strip()
        if not redirect:
            return
    connected = consent_flow.finish(engine, cipher, request, redirect)
    click.echo(connected.describe())


@accounts.command("list")
@_friendly_errors
def accounts_list() -> None:
    """List registered accounts: user, marketplace, granted scopes and refresh-token expiry."""
    from ebay_pipelines.ebay.scopes import short_name

    target = _ready_database()
    with cached_engine(target.ebay_url).connect() as conn:
        rows = list_accounts(conn)
    if not rows:
        click.echo("no accounts registered")
        return
    click.echo(
        f"{'ACCOUNT':<24} {'EBAY USER':<20} {'MARKETPLACE':<12} {'ENABLED':<8} {'TOKEN':<8} {'EXPIRES':<11} SCOPES"
    )
    for row in rows:
        expires = row.refresh_token_expires_at.strftime("%Y-%m-%d") if row.refresh_token_expires_at else "-"
        granted = " ".join(short_name(s) for s in row.scopes) if row.scopes is not None else "not known"
        click.echo(
            f"{row.account_id:<24} {row.ebay_user_id or '-':<20} {row.marketplace_id:<12} "
            f"{'yes' if row.enabled else 'no':<8} {'stored' if row.has_token else 'missing':<8} {expires:<11} {granted}"
        )


@accounts.command("disable")
@click.argument("account_id")
@_friendly_errors
def accounts_disable(account_id: str) -> None:
    """Stop syncing ACCOUNT_ID (its data stays)."""
    from ebay_pipelines.ids import validate_account_id

    validate_account_id(account_id)
    target = _ready_database()
    set_account_enabled(cached_engine(target.ebay_url), account_id, False)
    click.echo(f"account {account_id} disabled")


@accounts.command("signing-key")
@click.argument("account_id")
@click.option("--create", "create", is_flag=True, help="Create a new key through eBay's Key Management API.")
@click.option(
    "--import",
    "import_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Store the key in FILE: JSON with privateKey and jwe (a Key Management createSigningKey answer).",
)
@_friendly_errors
def accounts_signing_key(account_id: str, create: bool, import_file: Path | None) -> None:
    """Show, create or import ACCOUNT_ID's digital-signature key (EU/UK sellers sign Finances calls)."""
    from ebay_pipelines.ebay.errors import EbayError
    from ebay_pipelines.sync.signing import manage_signing_key

    target = _ready_database()
    try:
        click.echo(manage_signing_key(cached_engine(target.ebay_url), account_id, create, import_file))
    except EbayError as exc:
        raise click.ClickException(str(exc)) from None


@main.command()
@click.argument("state", type=click.Choice(["enable", "disable", "status"]))
@_friendly_errors
def workers(state: str) -> None:
    """Turn every sync on or off at once (the global kill switch), or show it."""
    target = _ready_database()
    engine = cached_engine(target.ebay_url)
    if state != "status":
        set_workers_enabled(engine, state == "enable")
    with engine.connect() as conn:
        enabled = workers_enabled(conn)
    click.echo(f"workers {'enabled' if enabled else 'disabled'}")


@main.group()
def notifications() -> None:
    """eBay's Marketplace Account Deletion notifications."""


@notifications.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (the HTTPS proxy's upstream).")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to bind.")
@_friendly_errors
def notifications_serve(host: str, port: int) -> None:
    """Serve the deletion endpoint: eBay's challenge and signed notifications, stored for the purge."""
    import uvicorn

    from ebay_pipelines.deletion_endpoint import app_from_settings
    from ebay_pipelines.ebay.errors import ConfigurationError

    settings.current().notification_endpoint()
    _ready_database()
    try:
        endpoint = app_from_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deletion endpoint on http://{host}:{port} for {settings.current().notification_endpoint_url}")
    uvicorn.run(endpoint, host=host, port=port, log_level="info", proxy_headers=True)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--port", default=8765, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the generated data.")
@click.pass_context
def simulator(ctx: click.Context, port: int, seed: int) -> None:
    """Serve the local eBay API simulator (more options: python -m ebay_pipelines.simulator --help)."""
    from ebay_pipelines.simulator.standalone import main as simulator_main

    sys.exit(simulator_main(["--port", str(port), "--seed", str(seed), *ctx.args]))


class _FamilyChoice(click.Choice):
    """The api families of the family table; an unknown one fails like the CLI's other errors (status 1)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            raise click.ClickException(f"unknown api family {value!r}; known: {', '.join(self.choices)}") from None


@main.group()
def quota() -> None:
    """eBay's daily call quotas."""


@quota.command("plan")
@click.option("--accounts", "accounts_", type=click.IntRange(min=0), required=True, help="Accounts to plan for.")
@click.option(
    "--open-refresh-minutes",
    type=click.Choice(["5", "10", "15", "20", "30", "60"]),
    default=None,
    help="How often open problems are searched (default: EBAY_PIPELINES_OPEN_REFRESH_MINUTES, else 30).",
)
@_friendly_errors
def quota_plan(accounts_: int, open_refresh_minutes: str | None) -> None:
    """Print eBay calls per quota and day for N accounts at the schedules' cadences, against eBay's limits."""
    from dataclasses import replace

    from ebay_pipelines.sync import quota_plan as planner

    current = settings.current()
    if open_refresh_minutes is not None:
        current = replace(current, open_refresh_minutes=int(open_refresh_minutes))
    click.echo(planner.render(accounts_, planner.plan(accounts_, current), current))


@main.command("run")
@click.option("--account", "account_id", required=True, help="Account id to sync.")
@click.option(
    "--api", "family_name", required=True, type=_FamilyChoice([spec.name for spec in FAMILIES]), help="Api family."
)
@click.option("--day", default=None, help="Day to sync (YYYY-MM-DD, window families; default: today UTC).")
@click.option(
    "--to-day",
    default=None,
    help="Last day of a range (YYYY-MM-DD): sync --day..--to-day in one run and one eBay window.",
)
@click.option(
    "--dagster-url",
    default="http://127.0.0.1:3000",
    show_default=True,
    envvar="EBAY_PIPELINES_DAGSTER_URL",
    help="A running Dagster webserver to launch through.",
)
@click.option("--in-process", is_flag=True, help="Run here even when a Dagster webserver is up.")
@_friendly_errors
def run_command(
    account_id: str, family_name: str, day: str | None, to_day: str | None, dagster_url: str, in_process: bool
) -> None:
    """Sync one account's api family now (what POST /ebay/workers/run did), or a range of its days."""
    from ebay_pipelines import manual_run

    launched = manual_run.launch(account_id, family_name, day, None if in_process else dagster_url, to_day)
    click.echo(launched.describe())
    if launched.failed:
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
