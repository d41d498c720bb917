"""The one ledger listing: filters, order and pages, and totals over the same filter."""

from datetime import timedelta

from tests import factories as f
from tests.services.world import DAY
from voucher.services import SYSTEM, redemption
from voucher.services.ledger import LedgerFilter, LedgerTotals, ledger_totals, list_ledger


def _ids(entries) -> list[int]:
    return [entry.id for entry in entries]


def test_filters_order_and_pages(app, world):
    later = DAY + timedelta(days=2)
    first, _ = world.redeem(1_000, service="A1", service_date=later, day=later)
    second, _ = world.redeem(2_000, service="A2")
    other_voucher, _pin = world.issue(person=f.make_beneficiary())
    third, _ = world.redeem(3_000, voucher=other_voucher, service_date=later, day=later)
    mine = LedgerFilter(provider_id=world.provider.id)

    assert _ids(list_ledger(mine)) == [first.id, second.id, third.id]
    assert _ids(list_ledger(mine, newest_first=True)) == [third.id, second.id, first.id]
    assert _ids(list_ledger(mine, after_id=first.id, limit=1)) == [second.id]
    assert _ids(list_ledger(mine, offset=1, limit=5, newest_first=True)) == [second.id, first.id]
    assert _ids(list_ledger(LedgerFilter(service_code="A2"))) == [second.id]
    assert _ids(list_ledger(LedgerFilter(date_to=DAY))) == [second.id]
    assert _ids(list_ledger(LedgerFilter(date_from=later, date_to=later))) == [first.id, third.id]
    # A code is matched however it is typed.
    typed = world.voucher.code.lower().replace("-", " ")
    assert _ids(list_ledger(LedgerFilter(voucher_code=typed))) == [first.id, second.id]
    assert list_ledger(LedgerFilter(provider_id=f.make_provider().id)) == []


def test_a_code_that_cannot_exist_matches_nothing(app, world):
    world.redeem(1_000)
    for code in ("", "not a code", "ZZZZ-ZZZZ-ZZZZ-ZZZ0"):
        assert list_ledger(LedgerFilter(voucher_code=code)) == []
        assert ledger_totals(LedgerFilter(voucher_code=code)) == LedgerTotals(0, 0, 0, 0)


def test_totals_are_net_of_reversals_over_the_same_filter(app, world):
    kept, _ = world.redeem(1_000)
    wrong, _ = world.redeem(2_500)
    redemption.reverse_redemption(SYSTEM, wrong.id, "errore")
    where = LedgerFilter(provider_id=world.provider.id, voucher_code=world.voucher.code)
    assert ledger_totals(where) == LedgerTotals(3, 1_000, 1_000, 0)
    assert len(list_ledger(where)) == 3
    assert kept.id in _ids(list_ledger(where))
