"""ISEE records: entering them, and the coverage they give the person's open vouchers by date.

The scheme runs from last year to next year and the DSU dates lie in last year's spring, so
that a DSU is never in the future and its month after always falls inside the voucher,
whenever the tests run."""

from datetime import date

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.services.world import make_world
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.periods import Month
from voucher.services import SYSTEM, beneficiaries, clock, isee
from voucher.services.coverage import coverage_on

YEAR = clock.today().year - 1
START, END = date(YEAR, 1, 1), date(YEAR + 2, 12, 31)
# 10.000 € → 90 %, 20.000 € → 70 %, 30.000 € → 50 %; the world's person has 10.000 €.
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},
    {"isee_max_cents": 2_000_000, "coverage_percent": 70},
    {"isee_max_cents": 3_000_000, "coverage_percent": 50},
]


def _world(**scheme):
    world = make_world(
        issue=False, copay_bands=BANDS, valid_from=START, valid_until=END, year=YEAR, **scheme
    )
    world.provider = f.make_provider(valid_from=START)
    world.voucher, world.pin = world.issue(day=date(YEAR, 1, 10))
    return world


def _add(person, value_cents, dsu_date, isee_type="ordinario", protocol="000000123-01"):
    record = isee.add_isee_record(
        SYSTEM,
        person,
        type=isee_type,
        value_cents=value_cents,
        dsu_protocol=f"INPS-ISEE-{dsu_date.year}-{protocol}",
        dsu_date=dsu_date,
        valid_until=date(YEAR + 1, 12, 31),
    )
    db.session.commit()
    return record


def _periods(voucher) -> list[tuple[date, int]]:
    db.session.refresh(voucher)
    return [(p.from_date, p.coverage_percent) for p in voucher.coverages]


def _events(action: str) -> list[dict]:
    query = select(AuditEvent.data).where(AuditEvent.action == action).order_by(AuditEvent.seq)
    return list(db.session.execute(query).scalars())


def test_a_renewal_changes_coverage_from_the_month_after_the_dsu_date(app):
    world = _world()
    # Recorded before the renewal is entered: it keeps its shares whatever its date.
    early, _ = world.redeem(quantity="1", service_date=date(YEAR, 3, 2), day=date(YEAR, 3, 2))
    record = isee.add_isee_record(
        SYSTEM,
        world.person,
        type="ordinario",
        value_cents=1_500_000,
        dsu_protocol=f" inps-isee-{YEAR}-000000123-01 ",
        dsu_date=date(YEAR, 2, 12),
        valid_until=date(YEAR, 12, 31),
    )
    db.session.commit()
    before, _ = world.redeem(quantity="1", service_date=date(YEAR, 2, 28), day=date(YEAR, 3, 10))
    after, _ = world.redeem(quantity="1", service_date=date(YEAR, 3, 1), day=date(YEAR, 3, 10))

    assert record.dsu_protocol == f"INPS-ISEE-{YEAR}-000000123-01"
    # 20 € an hour: 90 % before March, 70 % from 1 March.
    assert [e.public_cents for e in (early, before, after)] == [1800, 1800, 1400]
    assert _periods(world.voucher) == [(START, 90), (date(YEAR, 3, 1), 70)]
    assert coverage_on(world.voucher, clock.today()) == 70
    assert _events("voucher.coverage_changed") == [
        {
            "from_percent": 90,
            "to_percent": 70,
            "from_date": f"{YEAR}-03-01",
            "isee_record_id": record.id,
        }
    ]
    # The audit names the record, never its value.
    assert _events("beneficiary.isee_recorded") == [{"record_id": record.id, "type": "ordinario"}]
    # The shortcut follows the newest ordinario record, without making a second one.
    records = isee.list_isee_records(world.person)
    assert records[0] is record and len(records) == 2
    assert world.person.isee_cents == 1_500_000


def test_beyond_the_last_band_the_last_band_applies_and_an_older_dsu_changes_nothing(app):
    world = _world()
    _add(world.person, 9_000_000, date(YEAR, 4, 20))
    _add(world.person, 500_000, date(YEAR, 2, 1), protocol="000000999-01")  # entered late
    assert _periods(world.voucher) == [(START, 90), (date(YEAR, 5, 1), 50)]


def test_a_scheme_reads_only_its_isee_type(app):
    world = _world(isee_type="sociosanitario")
    # No sociosanitario record: the last band, whatever the ordinario ISEE says.
    assert _periods(world.voucher) == [(START, 50)]
    _add(world.person, 100_000, date(YEAR, 2, 12))
    assert _periods(world.voucher) == [(START, 50)]
    _add(world.person, 1_500_000, date(YEAR, 3, 5), isee_type="sociosanitario")
    assert _periods(world.voucher) == [(START, 50), (date(YEAR, 4, 1), 70)]


def test_the_shortcut_rebands_from_next_month(app):
    world = _world()
    beneficiaries.update_beneficiary(SYSTEM, world.person, isee_cents=2_500_000)
    db.session.commit()
    assert _periods(world.voucher) == [(START, 90), (Month.of(clock.today()).end, 50)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "isee"}, "type"),
        ({"value_cents": -1}, "value_cents"),
        ({"value_cents": 2**31}, "value_cents"),
        ({"dsu_protocol": "INPS-ISEE-2025-12345-01"}, "dsu_protocol"),
        ({"dsu_date": date(9999, 12, 31)}, "dsu_date"),
        ({"valid_until": date(YEAR, 1, 1)}, "valid_until"),
    ],
)
def test_each_field_is_checked(app, changes, field):
    person = f.make_beneficiary()
    data = dict(
        type="ordinario",
        value_cents=1_000_000,
        dsu_protocol="INPS-ISEE-2025-000000001-00",
        dsu_date=date(YEAR, 2, 1),
        valid_until=date(YEAR, 12, 31),
    )
    with pytest.raises(ValidationFailed) as refused:
        isee.add_isee_record(SYSTEM, person, **{**data, **changes})
    assert list(refused.value.errors) == [field]
