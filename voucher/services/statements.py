"""Provider statements (rendiconti mensili): the ente approves a provider's month, which
freezes it; the ragioneria pays it (voucher.services.payments).

Which statement a ledger entry belongs to: the statement of its service month if that
statement is still open when the ente approves; otherwise the first later month that is
open. So an approved statement never changes: a late redemption or a reversal dated in an
approved month is carried over into the next open statement, where it shows as a carried-over
line. In practice the open statement of month M holds the provider's unfrozen entries dated
from the first month of the run of approved months just before M up to the end of M.
"""

from datetime import date

from sqlalchemy import exists, func, insert, literal, select

from ..errors import Conflict
from ..extensions import db
from ..models import (
    Comune,
    LedgerEntry,
    Provider,
    Scheme,
    Service,
    Statement,
    StatementLine,
    Voucher,
)
from ..periods import Month
from . import Actor, audit, clock


def find_statement(provider_id: int, month: Month) -> Statement | None:
    """The provider's approved (or paid) statement of `month`, or None while it is open."""
    return db.session.execute(
        select(Statement).where(Statement.provider_id == provider_id, Statement.month == str(month))
    ).scalar_one_or_none()


def approved_months(provider_id: int) -> set[Month]:
    """The months whose statement the ente has approved (paid ones included)."""
    months = db.session.execute(
        select(Statement.month).where(Statement.provider_id == provider_id)
    ).scalars()
    return {Month.parse(m) for m in months}


def open_period_start(provider_id: int, month: Month) -> date:
    """First service date that an open statement of `month` collects: entries of the
    approved months just before it are carried over into it."""
    approved = approved_months(provider_id)
    first = month
    while first.previous() in approved:
        first = first.previous()
    return first.start


def _open_criteria(provider_id: int, month: Month) -> list:
    return [
        LedgerEntry.provider_id == provider_id,
        LedgerEntry.service_date >= open_period_start(provider_id, month),
        LedgerEntry.service_date < month.end,
        ~exists().where(StatementLine.ledger_entry_id == LedgerEntry.id),
    ]


def _line_query():
    return (
        select(
            LedgerEntry.id.label("entry_id"),
            LedgerEntry.service_date.label("date"),
            LedgerEntry.kind,
            Voucher.code.label("voucher_code"),
            LedgerEntry.service_code,
            Service.name_it.label("service_name"),
            LedgerEntry.quantity,
            LedgerEntry.amount_cents,
            LedgerEntry.public_cents,
            LedgerEntry.copay_cents,
            LedgerEntry.reverses_id,
            LedgerEntry.created_at,
            Scheme.fund_code,
            Scheme.cup,
            Scheme.legal_model,
            Comune.istat_code.label("comune_istat"),
            Comune.name.label("comune_name"),
        )
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .join(Comune, Comune.id == LedgerEntry.comune_id)
        .join(Service, Service.code == LedgerEntry.service_code)
        .order_by(LedgerEntry.service_date, LedgerEntry.id)
    )


def subtotals(lines: list[dict]) -> list[dict]:
    """The lines' net amounts per fund, CUP and Comune of competence: one invoice or one
    recharge each. They add up to the statement's totals."""
    sums: dict[tuple, dict] = {}
    for line in lines:
        key = (line["fund_code"], line["cup"], line["comune_istat"])
        row = sums.setdefault(
            key,
            {
                "fund_code": key[0],
                "cup": key[1],
                "comune_istat": key[2],
                "comune_name": line["comune_name"],
                "public_cents": 0,
                "copay_cents": 0,
                # The public share the provider invoices: lines of `purchase` schemes.
                "purchase_cents": 0,
            },
        )
        row["public_cents"] += line["public_cents"]
        row["copay_cents"] += line["copay_cents"]
        if line["legal_model"] == "purchase":
            row["purchase_cents"] += line["public_cents"]
    return [sums[key] for key in sorted(sums, key=lambda k: (k[0], k[1] or "", k[2]))]


def statement_lines(provider_id: int, month: Month, statement: Statement | None) -> list[dict]:
    """The lines of a provider's month: frozen ones once approved, else the open ones."""
    query = _line_query()
    if statement is not None:
        query = query.join(StatementLine, StatementLine.ledger_entry_id == LedgerEntry.id).where(
            StatementLine.statement_id == statement.id
        )
    else:
        query = query.where(*_open_criteria(provider_id, month))
    lines = []
    for row in db.session.execute(query).mappings():
        line = dict(row)
        line["carried_over"] = row["date"] < month.start
        lines.append(line)
    return lines


def approve_statement(actor: Actor, provider: Provider, month: Month) -> Statement:
    """Freeze a provider's month: record its lines and totals. Later entries dated in this
    month go to the next open statement."""
    # One approval at a time per provider: the open range depends on the approved months.
    db.session.execute(select(Provider.id).where(Provider.id == provider.id).with_for_update())
    if find_statement(provider.id, month) is not None:
        raise Conflict(f"Il rendiconto di {month.label()} è già approvato.")
    if month >= Month.of(clock.today()):
        raise Conflict(f"Il mese {month.label()} non è ancora concluso: non si può approvare.")
    statement = Statement(
        provider_id=provider.id,
        month=str(month),
        status="approved",
        line_count=0,
        total_amount_cents=0,
        total_public_cents=0,
        total_copay_cents=0,
        approved_by_id=actor.user_id,
    )
    db.session.add(statement)
    db.session.flush()
    db.session.execute(
        insert(StatementLine).from_select(
            ["statement_id", "ledger_entry_id"],
            select(literal(statement.id), LedgerEntry.id).where(
                *_open_criteria(provider.id, month)
            ),
        )
    )
    # Totals from the lines just written, so that they agree whatever was inserted meanwhile.
    count, amount, public, copay = db.session.execute(
        select(
            func.count(LedgerEntry.id),
            func.coalesce(func.sum(LedgerEntry.amount_cents), 0),
            func.coalesce(func.sum(LedgerEntry.public_cents), 0),
            func.coalesce(func.sum(LedgerEntry.copay_cents), 0),
        )
        .join(StatementLine, StatementLine.ledger_entry_id == LedgerEntry.id)
        .where(StatementLine.statement_id == statement.id)
    ).one()
    statement.line_count = count
    statement.total_amount_cents = int(amount)
    statement.total_public_cents = int(public)
    statement.total_copay_cents = int(copay)
    db.session.flush()
    audit.record(
        actor,
        "statement.approved",
        "statement",
        statement.id,
        provider_id=provider.id,
        month=str(month),
        lines=count,
        total_public_cents=statement.total_public_cents,
        total_copay_cents=statement.total_copay_cents,
    )
    return statement
