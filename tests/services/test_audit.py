"""The audit trail: every change of state writes an event; the hash chain verifies, and a
changed or deleted event is found and named, by the service and by the CLI."""

import pytest
import sqlalchemy as sa

from tests import factories as f
from tests.services.world import START, audit_actions
from voucher.extensions import db
from voucher.models import AuditChain, AuditEvent, LedgerEntry
from voucher.services import SYSTEM, issuance, providers, redemption, users, vouchers
from voucher.services.audit_verify import verify_chain


def _issue(w):
    return "voucher.issued", w.voucher.code


def _revoke(w):
    vouchers.revoke_voucher(SYSTEM, w.voucher, "revoca")
    return "voucher.revoked", w.voucher.code


def _replace(w):
    new, _pin = vouchers.replace_voucher(SYSTEM, w.voucher, "smarrito")
    return "voucher.replaced", new.code


def _redeem(w):
    w.redeem(1_000)
    return "voucher.redeemed", w.voucher.code


def _reverse(w):
    entry, _ = w.redeem(1_000)
    redemption.reverse_redemption(SYSTEM, entry.id, "errore")
    return "voucher.redemption_reversed", w.voucher.code


def _suspend_voucher(w):
    vouchers.suspend_voucher(SYSTEM, w.voucher, "verifica")
    return "voucher.suspended", w.voucher.code


def _accredit(w):
    providers.accredit(SYSTEM, w.provider, "A3", START)
    return "provider.accredited", w.provider.id


def _suspend_provider(w):
    providers.suspend_provider(SYSTEM, w.provider, "verifica")
    return "provider.suspended", w.provider.id


def _login(w):
    user = f.make_user("social_worker")
    users.authenticate(user.username, f.PASSWORD)
    return "user.login", user.id


def _reset_pin(w):
    vouchers.reset_pin(SYSTEM, w.voucher)
    return "voucher.pin_reset", w.voucher.code


def _expire(w):
    from tests.services.world import END

    vouchers.expire_vouchers(SYSTEM, day=END.replace(year=END.year + 1))
    return "voucher.expired", w.voucher.code


CHANGES = [
    _issue,
    _revoke,
    _replace,
    _redeem,
    _reverse,
    _suspend_voucher,
    _accredit,
    _suspend_provider,
    _login,
    _reset_pin,
    _expire,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_every_change_of_state_writes_an_event(app, world, change):
    action, object_id = change(world)
    db.session.commit()
    last = (
        db.session.execute(
            sa.select(AuditEvent)
            .where(AuditEvent.action == action, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )
    assert last is not None, (action, audit_actions())
    assert last.actor_type and last.actor_label and last.at is not None
    assert verify_chain().ok


def test_a_refused_operation_leaves_no_event(app, world):
    before = audit_actions()
    with pytest.raises(Exception, match="insufficiente"):
        world.redeem(60_000)
    db.session.rollback()
    assert audit_actions() == before


def test_the_chain_verifies_across_batches(app, world):
    for amount in (100, 200, 300):
        world.redeem(amount)
    report = verify_chain(batch=2)
    assert report.ok and report.events == len(audit_actions()) >= 8


def _allow_tampering():
    """Switch the append-only triggers off for this test's transaction only."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for action in ("update", "delete"):
            db.session.execute(sa.text(f"DROP TRIGGER audit_event_no_{action}"))


def _world_with_events(world):
    for amount in (100, 200, 300):
        world.redeem(amount)
    events = len(audit_actions())
    assert events >= 8 and verify_chain().ok
    return events


@pytest.mark.parametrize(
    ("column", "value"),
    [("data", {"amount_cents": 1}), ("actor_label", "qualcun altro"), ("action", "user.login")],
)
def test_a_changed_event_is_found_and_named(app, world, runner, column, value):
    _world_with_events(world)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    _allow_tampering()
    db.session.execute(sa.update(AuditEvent).where(AuditEvent.seq == 5).values({column: value}))
    report = verify_chain()
    assert (report.ok, report.broken_at, report.events) == (False, 5, 4)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0
    assert "5" in result.output.split(":")[0]


def test_a_deleted_event_is_found_and_named(app, world, runner):
    _world_with_events(world)
    _allow_tampering()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq == 3))
    report = verify_chain()
    assert (report.ok, report.broken_at) == (False, 3)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code != 0 and "3" in result.output


def test_a_rewritten_hash_breaks_the_next_link(app, world):
    events = _world_with_events(world)
    _allow_tampering()
    db.session.execute(
        sa.update(AuditEvent).where(AuditEvent.seq == events - 1).values(hash="f" * 64)
    )
    report = verify_chain()
    assert not report.ok and report.broken_at == events - 1


def test_the_cli_reports_an_intact_chain(app, world, runner):
    events = _world_with_events(world)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0
    assert str(events) in result.output


def test_a_rolled_back_savepoint_drops_only_its_own_events(app, world):
    first, second = f.make_beneficiary(), f.make_beneficiary()
    kept, _pin = issuance.issue_voucher(SYSTEM, world.scheme, first)
    with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
        dropped, _pin = issuance.issue_voucher(SYSTEM, world.scheme, second)
        dropped_code = dropped.code
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
    db.session.commit()
    issued = set(
        db.session.execute(
            sa.select(AuditEvent.object_id).where(AuditEvent.action == "voucher.issued")
        ).scalars()
    )
    assert kept.code in issued and dropped_code not in issued
    assert verify_chain().ok


def test_events_of_a_released_savepoint_follow_the_outer_transaction(app, world):
    before = audit_actions()
    with db.session.begin_nested():
        vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica")
    vouchers.reactivate_voucher(SYSTEM, world.voucher)
    db.session.rollback()
    assert audit_actions() == before
    with db.session.begin_nested():
        vouchers.suspend_voucher(SYSTEM, vouchers.get_voucher(world.voucher.code), "verifica")
    db.session.commit()
    assert audit_actions() == [*before, "voucher.suspended"]
    assert verify_chain().ok


def test_removed_newest_events_show_against_the_head_row_and_the_printed_head(app, world, runner):
    """Deleting the newest events leaves a chain whose links verify: the head row still
    names the removed newest event. Rewinding the head row too (anyone who can write to
    the database can) is what the head hash kept outside the database shows."""
    _world_with_events(world)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    kept_outside = verify_chain().head
    assert kept_outside in result.output
    last = db.session.execute(sa.select(sa.func.max(AuditEvent.seq))).scalar_one()
    before_last = db.session.execute(
        sa.select(AuditEvent.prev_hash, AuditEvent.hash).where(AuditEvent.seq == last - 1)
    ).one()
    _allow_tampering()
    db.session.execute(sa.delete(AuditEvent).where(AuditEvent.seq == last))
    report = verify_chain()
    assert not report.ok and report.reason == "the chain's head does not match"
    db.session.execute(
        sa.update(AuditChain).values(
            seq=last - 1, prev_hash=before_last.prev_hash, hash=before_last.hash
        )
    )
    report = verify_chain()
    assert report.ok and report.events == last - 1
    assert report.head != kept_outside


def test_appends_continue_from_the_head_row(app, world):
    """Each event links to the head row's hash and moves the row to itself."""
    _world_with_events(world)
    db.session.commit()
    head = db.session.execute(sa.select(AuditChain)).scalar_one()
    newest = db.session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()
    assert (head.seq, head.prev_hash, head.hash) == (newest.seq, newest.prev_hash, newest.hash)
    assert verify_chain().ok


def test_an_append_without_the_head_row_fails_loudly(app, world):
    """Without its head row the chain cannot grow: the transaction fails, nothing is
    written without its audit event."""
    db.session.commit()
    db.session.execute(sa.delete(AuditChain))
    vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica")
    with pytest.raises(RuntimeError, match="head row"):
        db.session.commit()


def test_links_made_by_the_database_match_the_documented_hash(app, world):
    """The database computes each link (SHA-256 of the canonical JSON, UTF-8): it must be
    exactly event_hash() of the stored event, also for text beyond ASCII and for several
    events in one transaction, each linked to the one before."""
    from voucher.services import audit

    actor = f.make_user("admin")
    for label in ("Niccolò Città", 'Zoë «virgolette» "doppie" \\ 🙂', "a\nb\tc"):
        audit.record(
            users.actor_for(actor),
            "note.added",
            "voucher",
            world.voucher.code,
            note=label,
            nested={"z": 1, "a": [label, None, 2.5]},
        )
    db.session.commit()
    rows = db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    prev = audit.GENESIS
    for row in rows:
        fields = {name: getattr(row, name) for name in audit.EVENT_FIELDS}
        assert row.prev_hash == prev
        assert row.hash == audit.event_hash(prev, row.seq, fields)
        prev = row.hash
    assert [r.data.get("note") for r in rows[-3:]] == [
        "Niccolò Città",
        'Zoë «virgolette» "doppie" \\ 🙂',
        "a\nb\tc",
    ]
    assert verify_chain().ok


def _events(*actions):
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)
        )
        .scalars()
        .all()
    )


def test_a_redemption_event_names_its_ledger_entry(app, world):
    """On PostgreSQL the debit, the ledger row and the event are one statement, the
    ledger id taken beforehand: the event must name the row that was written."""
    entries = [world.redeem(1_000, key=f"visita-{n}")[0] for n in range(3)]
    events = _events("voucher.redeemed")
    assert [e.data["entry_id"] for e in events] == [entry.id for entry in entries]
    assert {e.data["entry_id"] for e in events} == set(
        db.session.execute(sa.select(LedgerEntry.id)).scalars()
    )
    assert [e.data["balance_cents"] for e in events] == [
        entry.balance_after_cents for entry in entries
    ]
    assert verify_chain().ok


def test_a_redemption_keeps_its_place_among_the_events_of_its_transaction(app, world):
    """Events recorded before a redemption, in the same transaction, come before it in
    the chain; those recorded after it, after it."""
    other, _pin = issuance.issue_voucher(SYSTEM, world.scheme, f.make_beneficiary())
    db.session.commit()
    vouchers.suspend_voucher(SYSTEM, other, "verifica")
    world.redeem(1_000, key="dopo-la-sospensione")
    assert [e.action for e in _events("voucher.suspended", "voucher.redeemed")][-2:] == [
        "voucher.suspended",
        "voucher.redeemed",
    ]
    world.redeem(1_000, key="prima-della-riattivazione", commit=False)
    vouchers.reactivate_voucher(SYSTEM, other)
    db.session.commit()
    assert [e.action for e in _events("voucher.reactivated", "voucher.redeemed")][-2:] == [
        "voucher.redeemed",
        "voucher.reactivated",
    ]
    assert verify_chain().ok


def test_a_redemption_rolled_back_with_its_savepoint_leaves_neither_entry_nor_event(app, world):
    db.session.commit()
    before = audit_actions()
    with pytest.raises(sa.exc.DBAPIError), db.session.begin_nested():
        world.redeem(1_000, key="annullata", commit=False)
        db.session.execute(sa.text("SELECT * FROM no_such_table"))
    db.session.commit()
    assert audit_actions() == before
    assert db.session.execute(sa.select(sa.func.count(LedgerEntry.id))).scalar_one() == 0
    world.redeem(1_000, key="dopo")  # the chain goes on from its head
    assert audit_actions() == [*before, "voucher.redeemed"]
    assert verify_chain().ok
