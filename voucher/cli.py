"""Command-line front door: thin wrappers over the services.

flask --app voucher db upgrade
flask --app voucher create-user USERNAME --role ROLE [--provider ID]
flask --app voucher demo
flask --app voucher expire
flask --app voucher retention [--dry-run]
flask --app voucher worker [--once]
flask --app voucher audit verify
flask --app voucher keys rotate
flask --app voucher break-glass-report [--days 7]
flask --app voucher spid refresh-metadata [--federation spid|cie]
"""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from .db import run_in_transaction
from .errors import DomainError
from .models import ROLES
from .services import SYSTEM


def _fail(message: str) -> None:
    click.echo(f"Errore: {message}", err=True)
    sys.exit(1)


def _read_password() -> str:
    """Prompted twice (hidden) on a terminal; one line of standard input otherwise."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        _fail("nessuna password sullo standard input.")
    return line.rstrip("\r\n")


def _domain_message(error: DomainError) -> str:
    if error.errors:
        return "; ".join(m for msgs in error.errors.values() for m in msgs)
    return error.detail


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="Ruolo dell'utente.")
@click.option("--provider", "provider_id", type=int, help="Id del fornitore (ruolo provider).")
@click.option("--full-name", default=None, help="Nome e cognome.")
def create_user_command(username, role, provider_id, full_name):
    """Create a user; the password is prompted for, or read from standard input."""
    from .services.users import create_user

    if role == "provider" and provider_id is None:
        _fail("--provider è obbligatorio per il ruolo provider.")
    password = _read_password()
    try:
        user = run_in_transaction(
            lambda: create_user(
                SYSTEM,
                username=username,
                password=password,
                role=role,
                provider_id=provider_id,
                full_name=full_name,
            )
        )
    except DomainError as error:
        _fail(_domain_message(error))
    click.echo(f"Utente {user.username} creato (ruolo {user.role}).")


@click.command("demo")
@click.option(
    "--password",
    envvar="DEMO_PASSWORD",
    default=None,
    help="Password of the demo users (default: generated and printed).",
)
def demo_command(password):
    """Fill an empty database with a realistic demo ente and print the demo logins."""
    from .demo import DemoNotEmpty, load_demo

    try:
        logins = run_in_transaction(lambda: load_demo(password=password))
    except DemoNotEmpty as error:
        _fail(str(error))
    except DomainError as error:  # a --password that the password policy refuses
        _fail(_domain_message(error))
    click.echo("Dati dimostrativi caricati. Accessi:")
    for login in logins:
        click.echo(
            f"  {login['role']:<14} {login['username']:<16} {login['password']}"
            + (f"   ({login['note']})" if login.get("note") else "")
        )


@click.command("expire")
def expire_command():
    """The nightly job: mark vouchers past their validity as expired, and delete the batch
    letters and form tokens kept too long, unconfirmed beneficiary imports, and ended
    sessions, API tokens and sign-in locks."""
    from .services.users import purge_ended_sessions
    from .services.vouchers import expire_vouchers

    count = run_in_transaction(lambda: expire_vouchers(SYSTEM))
    click.echo(f"Buoni scaduti: {count}.")
    _purge_pin_material()
    _discard_stale_imports()
    ended = run_in_transaction(purge_ended_sessions)
    click.echo(f"Sessioni, token e blocchi d'accesso scaduti eliminati: {ended}.")


def _purge_pin_material() -> None:
    """Part of the nightly job: batch letters past BATCH_LETTERS_KEEP_DAYS (PINs in clear)
    and one-time form tokens past their lifetime."""
    from .services.batch_files import purge_expired_letters
    from .services.form_tokens import purge_tokens

    days = current_app.config["BATCH_LETTERS_KEEP_DAYS"]
    batches = run_in_transaction(lambda: purge_expired_letters(SYSTEM, days))
    click.echo(f"Lotti con lettere eliminate (oltre {days} giorni): {batches}.")
    tokens = run_in_transaction(purge_tokens)
    click.echo(f"Token dei moduli scaduti eliminati: {tokens}.")


def _discard_stale_imports() -> None:
    """Part of the nightly job: drafts of beneficiary imports older than a day, with the
    personal details of their rows."""
    from .services.beneficiary_import import discard_stale_drafts

    count = run_in_transaction(lambda: discard_stale_drafts(SYSTEM))
    click.echo(f"Importazioni di beneficiari non confermate annullate: {count}.")


@click.command("retention")
@click.option("--dry-run", is_flag=True, help="Conta soltanto, senza modificare nulla.")
def retention_command(dry_run):
    """The nightly retention job: pseudonymise the personal details kept past their period
    (voucher.services.retention); one audit event per run, with counts."""
    from .services import retention

    if dry_run:
        due = retention.people_due_now()
        click.echo(f"Beneficiari da pseudonimizzare: {due}.")
        return
    outcome = run_in_transaction(lambda: retention.run_retention(SYSTEM))
    click.echo(
        f"Beneficiari pseudonimizzati (ultimo buono terminato prima del "
        f"{outcome.personal_cutoff:%d/%m/%Y}): {outcome.pseudonymised}; nuclei: "
        f"{outcome.households}; righe di caricamenti massivi: {outcome.batch_rows}; lotti con "
        f"lettere eliminate: {outcome.letters_purged}. Movimenti contabili oltre il periodo di "
        f"conservazione (mai cancellati): {outcome.accounting_past_retention}."
    )


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
@click.option(
    "--tail-bound",
    type=float,
    default=None,
    help="Seconds an event may wait for the sequencer (default AUDIT_TAIL_MAX_SECONDS).",
)
def audit_verify_command(tail_bound):
    """Recompute the hash chain; name the first broken link; report the unchained tail and
    its age (exit 1 if a link is broken or the tail is older than the bound)."""
    from .services.audit_verify import verify_chain

    report = verify_chain(tail_bound=tail_bound)
    if report.broken_at is not None:
        click.echo(
            f"Catena di audit interrotta all'evento {report.broken_at}: {report.reason} "
            f"({report.events} eventi integri prima).",
            err=True,
        )
        sys.exit(1)
    click.echo(f"Catena di audit integra: {report.events} eventi verificati.")
    click.echo(f"Ultimo hash: {report.head} (conservarlo fuori dal database).")
    if report.unchained:
        click.echo(
            f"In attesa di concatenazione: {report.unchained} eventi, il più vecchio da "
            f"{report.unchained_age:.1f} s (limite {report.tail_bound:g} s)."
        )
    else:
        click.echo("In attesa di concatenazione: nessun evento.")
    if report.stale:
        click.echo(
            "Il sequenziatore della catena è fermo o in ritardo: avviare `flask --app voucher "
            "worker` (o `flask --app voucher audit sequence`).",
            err=True,
        )
        sys.exit(1)


@audit_cli.command("sequence")
@click.option("--once", is_flag=True, help="Chain what waits now, then exit.")
def audit_sequence_command(once):
    """PostgreSQL: link committed events to the audit chain (the sequencer). Without --once,
    runs until SIGTERM or SIGINT; several may run, one works (an advisory lock)."""
    import signal
    import threading

    from .extensions import db
    from .services.audit_sequencer import Sequencer, chain_all

    if db.engine.dialect.name != "postgresql":
        click.echo("SQLite: ogni evento è concatenato al commit, non serve il sequenziatore.")
        return
    if once:
        click.echo(f"Eventi concatenati: {chain_all()}.")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    Sequencer(current_app._get_current_object()).run(stop)


keys_cli = AppGroup("keys", help="The ente's signing keys.")


@keys_cli.command("rotate")
def keys_rotate_command():
    """Create a new signing key; vouchers signed with older keys keep verifying."""
    from .documents.signing import KeyRing

    kid = KeyRing.rotate(current_app.config["SIGNING_KEYS_DIR"])
    current_app.extensions["voucher.keyring"] = KeyRing.load(
        current_app.config["SIGNING_KEYS_DIR"], current_app.config.get("SIGNING_KEY_PEM")
    )
    click.echo(f"Nuova chiave di firma: {kid}. Riavviare i server applicativi.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Elabora i lotti in attesa, poi termina.")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64), help="Thread.")
@click.option("--poll", default=5.0, show_default=True, help="Secondi tra due controlli.")
def worker_command(once, workers, poll):
    """The background worker, as its own process: the confirmed bulk batches of vouchers and
    the notifications to families (voucher.notifications.queue.run_worker)."""
    from .jobs import run_pending

    if once:
        count = run_pending()
        click.echo(f"Lotti elaborati: {count}.")
        return
    from .notifications.queue import run_worker

    click.echo("Lavori in background avviati: lotti e notifiche (Ctrl+C per terminare).")
    run_worker(current_app._get_current_object(), workers, poll)


@click.command("break-glass-report")
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 366))
def break_glass_report_command(days):
    """The break-glass accesses of the last days, for the admin's weekly review."""
    from datetime import UTC

    from .services import clock
    from .services.reach import break_glass_report

    grants = break_glass_report(days)
    click.echo(f"Accessi straordinari negli ultimi {days} giorni: {len(grants)}.")
    for grant in grants:
        granted = grant.granted_at  # naive from SQLite, which keeps UTC
        granted = granted if granted.tzinfo else granted.replace(tzinfo=UTC)
        at = granted.astimezone(clock.ROME).strftime("%d/%m/%Y %H:%M")
        click.echo(
            f"  {at}  {grant.user.username:<16} {grant.object_type} {grant.object_id}: "
            f"{grant.reason}"
        )


def register_commands(app: Flask) -> None:
    """Add the application's commands to `flask --app voucher`."""
    from .notifications.commands import notify_cli
    from .spid.commands import spid_cli

    for command in (
        create_user_command,
        demo_command,
        expire_command,
        retention_command,
        worker_command,
        audit_cli,
        keys_cli,
        break_glass_report_command,
        spid_cli,
        notify_cli,
    ):
        app.cli.add_command(command)


def main() -> None:
    """`voucher …` as a shortcut for `flask --app voucher …`."""
    from flask.cli import FlaskGroup, ScriptInfo

    # The application named by its import path, exactly as `--app voucher` does: this module
    # is registered by the package, so it does not import it back.
    FlaskGroup()(prog_name="voucher", obj=ScriptInfo(app_import_path="voucher"))
