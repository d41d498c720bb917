"""Changing an active scheme: its budget (up, and down no lower than the committed), its
validity (later, within five years; vouchers carried along only when asked, with a new
QR payload), and the providers it is limited to, as redemption, the letter and the
balance page read them."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.services.world import DAY, END, START, YEAR, audit_actions, ledger_count
from voucher.documents.signing import end_of_day_epoch, keyring
from voucher.errors import Conflict, NotAccredited, ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import (
    SYSTEM,
    letters,
    providers,
    redemption,
    scheme_changes,
    schemes,
    selfservice,
    vouchers,
)
from voucher.services import scheme_providers as listing
from voucher.services.redemption import RedemptionRequest


def _event(action):
    return (
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )


# --- budget -------------------------------------------------------------------------------


def test_a_top_up_raises_the_budget_and_is_audited_with_its_reason(world):
    scheme = world.scheme
    assert scheme_changes.change_budget(SYSTEM, scheme, 12_000_000, "Determina n. 123")
    db.session.commit()
    assert schemes.get_scheme(scheme.id).budget_cents == 12_000_000
    event = _event("scheme.budget_changed")
    assert event.object_id == str(scheme.id)
    assert event.data == {
        "old_budget_cents": 10_000_000,
        "budget_cents": 12_000_000,
        "committed_cents": 50_000,
        "reason": "Determina n. 123",
    }


def test_a_decrease_goes_down_to_the_committed_and_no_further(world):
    scheme = world.scheme  # one voucher of 500 € issued: 50_000 committed
    assert scheme_changes.change_budget(SYSTEM, scheme, 50_000, "Riduzione")
    db.session.commit()
    assert scheme.budget_cents == 50_000
    with pytest.raises(Conflict) as refused:
        scheme_changes.change_budget(SYSTEM, scheme, 49_999, "Riduzione")
    assert "499,99 €" in refused.value.detail and "500,00 €" in refused.value.detail
    assert refused.value.extensions == {"budget_cents": 49_999, "committed_cents": 50_000}
    assert refused.value.errors == {"budget_cents": [refused.value.detail]}
    db.session.rollback()
    assert schemes.get_scheme(scheme.id).budget_cents == 50_000


def test_the_same_budget_changes_nothing_and_records_nothing(world):
    before = audit_actions(world.scheme.id)
    assert not scheme_changes.change_budget(SYSTEM, world.scheme, 10_000_000, "Nulla")
    db.session.commit()
    assert audit_actions(world.scheme.id) == before


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_a_change_needs_a_reason(world, reason):
    with pytest.raises(ValidationFailed) as refused:
        scheme_changes.change_budget(SYSTEM, world.scheme, 20_000_000, reason)
    assert "reason" in refused.value.errors
    with pytest.raises(ValidationFailed):
        scheme_changes.extend_validity(SYSTEM, world.scheme, END + timedelta(days=30), reason)


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_only_an_active_scheme_changes_budget_and_validity(app, status):
    f.make_ente()
    scheme = f.make_scheme(status="draft" if status == "draft" else "active")
    if status == "closed":
        schemes.close_scheme(SYSTEM, scheme)
    with pytest.raises(Conflict):
        scheme_changes.change_budget(SYSTEM, scheme, 20_000_000, "Determina")
    with pytest.raises(Conflict):
        scheme_changes.extend_validity(SYSTEM, scheme, END + timedelta(days=30), "Determina")


# --- validity -----------------------------------------------------------------------------


def test_an_extension_leaves_the_vouchers_as_they_are_unless_asked(world):
    voucher, payload = world.voucher, world.voucher.qr_payload
    new_end = END + timedelta(days=90)
    assert scheme_changes.extend_validity(SYSTEM, world.scheme, new_end, "Det. 7", day=DAY) == 0
    db.session.commit()
    assert world.scheme.valid_until == new_end
    assert voucher.valid_until == END and voucher.qr_payload == payload
    event = _event("scheme.validity_extended")
    assert event.data == {
        "old_valid_until": END.isoformat(),
        "valid_until": new_end.isoformat(),
        "vouchers_extended": 0,
        "reason": "Det. 7",
    }
    # vouchers issued afterwards last until the new end
    later, _pin = world.issue(person=f.make_beneficiary())
    assert later.valid_until == new_end
    assert keyring().verify(later.qr_payload)["exp"] == end_of_day_epoch(new_end)


def test_an_extension_of_the_vouchers_signs_their_qr_again(world):
    kept, _pin = world.issue(person=f.make_beneficiary())
    revoked, _pin = world.issue(person=f.make_beneficiary())
    vouchers.revoke_voucher(SYSTEM, revoked, "errore")
    db.session.commit()
    new_end = END + timedelta(days=60)
    assert scheme_changes.extendable_vouchers(world.scheme, day=DAY) == 2
    extended = scheme_changes.extend_validity(
        SYSTEM, world.scheme, new_end, "Det. 8", extend_vouchers=True, day=DAY
    )
    db.session.commit()
    assert extended == 2
    for voucher in (world.voucher, kept):
        assert voucher.valid_until == new_end
        claims = keyring().verify(voucher.qr_payload)
        assert claims["code"] == voucher.code and claims["exp"] == end_of_day_epoch(new_end)
        assert "voucher.validity_extended" in audit_actions(voucher.code)
    assert revoked.valid_until == END  # a revoked voucher stays as it is
    # the extended voucher is spendable in its new days, by QR payload too
    world.redeem(2_000, ref=world.voucher.qr_payload, service_date=new_end, day=new_end)
    assert ledger_count(world.voucher) == 1


@pytest.mark.parametrize(
    ("new_end", "message"),
    [
        (END, "deve seguire quella attuale"),
        (END - timedelta(days=1), "deve seguire quella attuale"),
        (date(YEAR + 5, 1, 1), "al più tardi al"),
        (date(9999, 12, 31), "al più tardi al"),
    ],
)
def test_an_extension_must_be_later_and_within_five_years(world, new_end, message):
    with pytest.raises(ValidationFailed) as refused:
        scheme_changes.extend_validity(SYSTEM, world.scheme, new_end, "Det.")
    assert message in refused.value.errors["valid_until"][0]


def test_the_latest_end_is_five_years_from_the_start(world):
    assert scheme_changes.latest_end(world.scheme) == date(YEAR + 4, 12, 31)
    assert START.year == YEAR


# --- providers ----------------------------------------------------------------------------


def test_a_listed_provider_redeems_and_an_unlisted_one_is_not_accredited(world):
    chosen = f.make_provider(services=("A1",), valid_from=START)
    assert listing.set_scheme_providers(SYSTEM, world.scheme, [chosen.id])
    db.session.commit()
    event = _event("scheme.providers_changed")
    assert event.data == {"old_provider_ids": [], "provider_ids": [chosen.id]}
    world.redeem(2_000, provider=chosen)
    with pytest.raises(NotAccredited) as refused:
        world.redeem(2_000)  # world.provider is accredited for A1 but not listed
    assert "fornitori scelti" in refused.value.detail
    db.session.rollback()
    # the provider pages' preview reads the same terms, unlocked
    req = RedemptionRequest(world.voucher.code, "A1", DAY, amount_cents=2_000)
    with pytest.raises(NotAccredited):
        redemption.quote_redemption(world.provider, req, day=DAY)
    assert redemption.quote_redemption(chosen, req, day=DAY).public_cents == 2_000
    assert ledger_count(world.voucher) == 1
    # open again: every accredited provider
    assert listing.set_scheme_providers(SYSTEM, world.scheme, [])
    db.session.commit()
    world.redeem(2_000)
    assert ledger_count(world.voucher) == 2


def test_only_providers_accredited_for_the_services_may_be_listed(world):
    elsewhere = f.make_provider(services=("B1",), valid_from=START)
    with pytest.raises(ValidationFailed) as refused:
        listing.set_scheme_providers(SYSTEM, world.scheme, [elsewhere.id, 999_999])
    assert "999999" in refused.value.errors["provider_ids"][0]
    assert str(elsewhere.id) in refused.value.errors["provider_ids"][0]
    names = [p.name for p in listing.candidate_providers(world.scheme)]
    assert world.provider.name in names and elsewhere.name not in names


def test_the_providers_function_the_family_reads_honours_the_list(world):
    chosen = f.make_provider(services=("A2",), valid_from=START, email="a@chosen.example")
    open_names = {p.name for p in providers.providers_for_scheme(world.scheme, DAY)}
    assert open_names == {world.provider.name, chosen.name}
    listing.set_scheme_providers(SYSTEM, world.scheme, [chosen.id])
    db.session.commit()
    assert providers.providers_for_scheme(world.scheme, DAY) == [chosen]
    assert [c.name for c in selfservice.accredited_providers(world.voucher, DAY)] == [chosen.name]
    letter = letters.letter_for(world.voucher, day=DAY)
    assert [name for name, _contact in letter.providers] == [chosen.name]
    assert not providers.is_accredited(world.provider, "A1", DAY, scheme=world.scheme)
    assert providers.is_accredited(world.provider, "A1", DAY)  # without the scheme
    assert providers.is_accredited(chosen, "A2", DAY, scheme=world.scheme)


def test_a_scheme_created_with_providers_lists_them(world):
    scheme = f.make_scheme(provider_ids=[world.provider.id])
    assert listing.provider_ids(scheme) == [world.provider.id]
    assert {"scheme.created", "scheme.providers_changed"} <= set(audit_actions(scheme.id))
