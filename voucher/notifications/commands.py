"""`flask --app voucher notify …`: the notification worker and its one-off steps."""

import contextlib

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import func, select

from ..db import run_in_transaction
from ..extensions import db
from ..models import Notification

notify_cli = AppGroup("notify", help="Notifiche ai beneficiari (App IO ed e-mail).")


@notify_cli.command("worker")
@click.option("--workers", default=4, show_default=True, type=click.IntRange(1, 64))
def worker_command(workers):
    """The background worker (the same as `flask --app voucher worker`): notifications and
    bulk batches, until SIGTERM."""
    from .queue import run_worker

    click.echo("Invio delle notifiche avviato (Ctrl+C per terminare).")
    run_worker(current_app._get_current_object(), workers)


@notify_cli.command("once")
def once_command():
    """Relay new events and send every notification due now, then stop."""
    from . import channels, delivery, relay

    made = run_in_transaction(relay.pump)
    made += run_in_transaction(relay.expiring)
    sent = 0
    for notification_id in delivery.due_ids():
        with contextlib.suppress(channels.Retry):  # recorded: due again later
            sent += delivery.deliver(notification_id) == "sent"
    click.echo(f"Notifiche create: {len(made)}; inviate: {sent}.")


@notify_cli.command("status")
def status_command():
    """How many notifications are in each state, per channel."""
    counts = db.session.execute(
        select(Notification.channel, Notification.status, func.count())
        .group_by(Notification.channel, Notification.status)
        .order_by(Notification.channel, Notification.status)
    ).all()
    if not counts:
        click.echo("Nessuna notifica.")
    for channel, status, count in counts:
        click.echo(f"{channel:<6} {status:<8} {count}")
