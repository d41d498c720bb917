"""The demo's accounts: a voucher transferred to another Comune of the Ambito, and an ISEE
renewal that changes a family's share, so that the FSC report, the voucher pages and the
SIUSS flow show both."""

from datetime import date, timedelta

from ..periods import Month
from ..services import Actor, competence, isee
from .activity import Issued


def _open_with_history(issued: list[Issued], banded: bool) -> Issued | None:
    return next(
        (
            item
            for item in issued
            if item.voucher.status == "active"
            and len(item.entries) >= 2
            and (item.voucher.coverage_percent < 100) == banded
        ),
        None,
    )


def transfer_one(actor: Actor, issued: list[Issued], today: date) -> None:
    """A family that moved within the Ambito: from the first day of last month its services
    count for the new Comune of residence."""
    item = _open_with_history(issued, banded=False)
    if item is None:
        return
    voucher = item.voucher
    ente_comuni = [c for c in voucher.comune.ente.comuni if c.id != voucher.comune_id]
    from_date = max(Month.of(today).previous().start, voucher.valid_from)
    competence.transfer(
        actor,
        voucher,
        ente_comuni[0].istat_code,
        from_date,
        "Cambio di residenza all'interno dell'Ambito",
    )


def renew_one_isee(actor: Actor, issued: list[Issued], today: date) -> None:
    """A family whose new ISEE, presented last month, lowers its share from this month."""
    item = _open_with_history(issued, banded=True)
    if item is None:
        return
    person = item.voucher.beneficiary
    dsu_date = Month.of(today).previous().start + timedelta(days=14)
    isee.add_isee_record(
        actor,
        person,
        type="ordinario",
        value_cents=600_000,
        dsu_protocol=f"INPS-ISEE-{dsu_date.year}-{person.id:09d}-00",
        dsu_date=min(dsu_date, today),
        valid_until=date(today.year, 12, 31),
    )
