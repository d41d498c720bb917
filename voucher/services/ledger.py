"""Reading the ledger: the one listing of entries that the API, the provider's history page
and its CSV export share, their totals, and a voucher's own entries."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import LedgerEntry, Voucher
from . import codes


@dataclass(frozen=True)
class LedgerFilter:
    """Which entries: those matching every criterion given (service dates inclusive); None
    means any. The voucher code is as typed: one that cannot exist matches nothing."""

    provider_id: int | None = None
    voucher_code: str | None = None
    service_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class LedgerTotals:
    """How many entries, and their net amounts (reversals count negative)."""

    count: int
    amount_cents: int
    public_cents: int
    copay_cents: int


def _matching(where: LedgerFilter) -> Select | None:
    """The entries `where` selects, or None when it can select none."""
    query = select(LedgerEntry)
    if where.voucher_code is not None:
        code = codes.normalise_code(where.voucher_code)
        if code is None:
            return None
        query = query.join(Voucher, Voucher.id == LedgerEntry.voucher_id).where(
            Voucher.code == code
        )
    if where.provider_id is not None:
        query = query.where(LedgerEntry.provider_id == where.provider_id)
    if where.service_code is not None:
        query = query.where(LedgerEntry.service_code == where.service_code)
    if where.date_from is not None:
        query = query.where(LedgerEntry.service_date >= where.date_from)
    if where.date_to is not None:
        query = query.where(LedgerEntry.service_date <= where.date_to)
    return query


def list_ledger(
    where: LedgerFilter,
    *,
    after_id: int | None = None,
    offset: int = 0,
    limit: int | None = None,
    newest_first: bool = False,
) -> list[LedgerEntry]:
    """The entries `where` selects, by id (after `after_id`, if given), with their voucher,
    its scheme and their service loaded."""
    query = _matching(where)
    if query is None:
        return []
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    query = query.options(
        selectinload(LedgerEntry.voucher).selectinload(Voucher.scheme),
        selectinload(LedgerEntry.service),
        selectinload(LedgerEntry.comune),
    ).order_by(LedgerEntry.id.desc() if newest_first else LedgerEntry.id)
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.execute(query).scalars())


def ledger_totals(where: LedgerFilter) -> LedgerTotals:
    """How many entries `where` selects, and their net totals."""
    query = _matching(where)
    if query is None:
        return LedgerTotals(0, 0, 0, 0)
    selected = query.subquery()
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(selected.c.amount_cents), 0),
            func.coalesce(func.sum(selected.c.public_cents), 0),
            func.coalesce(func.sum(selected.c.copay_cents), 0),
        )
    ).one()
    return LedgerTotals(*(int(v) for v in row))


def ledger_for_voucher(voucher: Voucher) -> list[LedgerEntry]:
    """Every entry of one voucher, oldest first."""
    return list(
        db.session.execute(
            select(LedgerEntry).where(LedgerEntry.voucher_id == voucher.id).order_by(LedgerEntry.id)
        ).scalars()
    )
