"""A provider cancels its own mistaken entry, the same day, from its history or the receipt:
a compensating entry with a reason, the balance restored; from the next day, for another
provider's entry, or in a month already approved, it is refused. The statement and the
audit trail tell the cancellation apart."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.provider_world import make_provider_world
from voucher.extensions import db
from voucher.models import AuditEvent, LedgerEntry
from voucher.periods import Month
from voucher.reports.statement import statement_report
from voucher.reports.tables import statement_table
from voucher.services import SYSTEM, clock, redemption, statements, users


@pytest.fixture
def world(client):
    return make_provider_world(client)


def text(response) -> str:
    return response.get_data(as_text=True)


def cancel(world, entry, reason="Registrata due volte"):
    return world.client.post(f"/fornitore/prestazioni/{entry.id}/annulla", data={"reason": reason})


def balance(world) -> int:
    db.session.expire_all()
    return world.voucher.balance_cents


def test_the_history_and_the_receipt_offer_the_cancellation_today(world):
    entry = world.redeem_direct(world.voucher, quantity=Decimal("2"))
    link = f'href="/fornitore/prestazioni/{entry.id}/annulla"'
    assert link in text(world.client.get("/fornitore/prestazioni"))
    assert link in text(world.client.get(f"/fornitore/prestazioni/{entry.id}/ricevuta"))
    page = text(world.client.get(f"/fornitore/prestazioni/{entry.id}/annulla"))
    assert 'id="cancel-form"' in page and "40,00 €" in page
    assert 'name="reason"' in page and "autofocus" in page


def test_a_same_day_cancellation_restores_the_balance_once(world):
    entry = world.redeem_direct(world.voucher, quantity=Decimal("2"))
    assert balance(world) == 46_000
    response = cancel(world, entry)
    assert response.status_code == 302
    reversal = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.reverses_id == entry.id)
    ).scalar_one()
    assert response.headers["Location"] == f"/fornitore/prestazioni/{reversal.id}/ricevuta"
    assert reversal.kind == "reversal" and reversal.public_cents == -4_000
    assert reversal.reason == "Registrata due volte"
    assert balance(world) == 50_000
    receipt = text(world.client.get(response.headers["Location"]))
    assert f"Prestazione n. {entry.id} annullata: 40,00 € tornano sul buono." in receipt
    assert f"Annullamento n. {reversal.id}" in receipt
    assert "Annullata dal fornitore" in receipt and "Registrata due volte" in receipt
    history = text(world.client.get("/fornitore/prestazioni"))
    assert "Annullata dal fornitore" in history
    assert f'href="/fornitore/prestazioni/{entry.id}/annulla"' not in history

    again = cancel(world, entry)
    assert again.status_code == 302
    page = text(world.client.get(again.headers["Location"]))
    assert "già stata annullata" in page
    assert balance(world) == 50_000


def test_a_reason_is_required(world):
    entry = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    response = cancel(world, entry, reason="   ")
    assert response.status_code == 422
    html = text(response)
    assert "Indicare il motivo dell&#39;annullamento." in html or (
        "Indicare il motivo dell'annullamento." in html
    )
    assert '<a href="#reason">' in html and 'aria-invalid="true"' in html
    assert balance(world) == 48_000


def test_the_next_day_only_the_ente_corrects(world, monkeypatch):
    entry = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    tomorrow = clock.today() + timedelta(days=1)
    monkeypatch.setattr(clock, "today", lambda: tomorrow)
    assert "/annulla" not in text(world.client.get("/fornitore/prestazioni"))
    page = text(world.client.get(f"/fornitore/prestazioni/{entry.id}/annulla"))
    assert "Dal giorno dopo la correzione la fa l&#39;ente: chiamate" in page
    assert 'id="cancel-form"' not in page
    response = cancel(world, entry)
    assert response.status_code == 302
    assert "Dal giorno dopo la correzione la fa l&#39;ente" in text(
        world.client.get(response.headers["Location"])
    )
    assert balance(world) == 48_000


def test_another_providers_entry_is_not_found(world):
    theirs = world.redeem_direct(world.voucher, quantity=Decimal("1"), provider=world.other)
    assert world.client.get(f"/fornitore/prestazioni/{theirs.id}/annulla").status_code == 404
    assert cancel(world, theirs).status_code == 404
    assert balance(world) == 48_000


def test_an_approved_month_is_refused(world):
    """A late entry, recorded today for last month, once last month is approved."""
    last_month = Month.of(clock.today()).previous()
    world.voucher.valid_from = last_month.start
    db.session.commit()
    entry, _replayed = redemption.redeem(
        SYSTEM,
        world.provider.id,
        redemption.RedemptionRequest(world.voucher.code, "A1", last_month.start, quantity=1),
        "late-one",
    )
    db.session.commit()
    admin = users.actor_for(f.make_user("admin"))
    statements.approve_statement(admin, world.provider, last_month)
    db.session.commit()
    page = text(world.client.get(f"/fornitore/prestazioni/{entry.id}/annulla"))
    assert f"Il rendiconto di {last_month.label()} è già approvato" in page
    response = cancel(world, entry)
    assert response.status_code == 302
    assert balance(world) == 48_000


def test_the_audit_and_the_statement_name_the_provider(world):
    entry = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    staff = world.redeem_direct(world.voucher, quantity=Decimal("1"))
    cancel(world, entry)
    redemption.reverse_redemption(SYSTEM, staff.id, "Non resa")
    db.session.commit()
    events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "voucher.redemption_cancelled")
    ).scalars()
    (event,) = list(events)
    assert event.actor_type == "user" and event.actor_id == world.operator.id
    assert event.data["by"] == "provider" and event.data["cancelled_same_day"] is True
    assert event.data["reverses"] == entry.id
    reversed_events = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "voucher.redemption_reversed")
    ).scalars()
    assert len(list(reversed_events)) == 2  # the provider's and the staff's

    data = statement_report(world.provider, Month.of(clock.today()))
    reversals = [line for line in data["lines"] if line["kind"] == "reversal"]
    by_provider = {line["reverses_id"]: line["cancelled_by_provider"] for line in reversals}
    assert by_provider == {entry.id: True, staff.id: False}
    kinds = [row[1] for row in statement_table(data).rows]
    assert kinds.count("Annullata dal fornitore") == 1 and kinds.count("Storno") == 1
    admin = f.make_user("admin")
    world.client.post("/esci")
    f.login(world.client, admin)
    month = Month.of(clock.today())
    html = text(world.client.get(f"/rendiconti/fornitori/{world.provider.id}?month={month}"))
    assert html.count("Annullata dal fornitore") == 1
