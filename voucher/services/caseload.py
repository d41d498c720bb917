"""The social worker's caseload: the people and the vouchers in their reach, filtered,
sorted and paged, and the same lists as files.

Each page is one SELECT plus one COUNT, built on the indexes the lists need
(ix_beneficiary_name, ix_voucher_issued_at, ix_voucher_status_valid_until,
ix_voucher_scheme_status, the Comune columns): with 100,000 people and 300,000 vouchers a
page stays within a few hundred milliseconds on PostgreSQL (scripts/bench_caseload).

A person's list filters on the vouchers they hold: one voucher must match the scheme, the
status, the expiry and the balance asked for together, and only vouchers the actor sees
count (reach.voucher_clause), so a filter never reveals a voucher charged elsewhere. The
person's list sorts by name or by registration; the voucher list by issue date (newest
first), name, expiry (soonest first) or balance (smallest first): a person holds many
vouchers, so their expiry and balance are the vouchers' own.

The text searched for (a name or a codice fiscale) is personal data: the front doors
receive it in the body of a POST and pass it here; it never enters an audit event, only
whether it looked like a name or a codice fiscale.
"""

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

from sqlalchemy import Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import aliased, contains_eager

from ..extensions import db
from ..models import Beneficiary, IseeRecord, Scheme, Voucher
from ..models.status import OPEN_VOUCHER_STATUSES
from . import Actor, audit, clock, reach, read_audit

PAGE_SIZE = 50
MAX_PAGE = 10**6  # keeps the offset within the database's integers
EXPORT_LIMIT = 20_000  # a larger list is a report, not a caseload: narrow the filters
MAX_DAYS = 366
PEOPLE_SORTS = ("nome", "recenti")
VOUCHER_SORTS = ("emissione", "nome", "scadenza", "saldo")
_OPEN = sorted(s.value for s in OPEN_VOUCHER_STATUSES)

# Why a list was read: the purpose kept in its audit event.
PEOPLE_LIST = "elenco dei beneficiari"
VOUCHER_LIST = "elenco dei buoni"
EXPORT = "esportazione dell'elenco"


class TooManyRows(Exception):
    """An export beyond EXPORT_LIMIT rows."""


@dataclass(frozen=True)
class Filters:
    """What narrows a list. Ids, codes and numbers only, so that they may travel in a URL;
    `text` (a name or a codice fiscale) is the one exception and never does."""

    comune_id: int | None = None
    scheme_id: int | None = None
    status: str | None = None
    expiring_days: int | None = None  # vouchers ending within so many days
    isee_expiring_days: int | None = None  # the ISEE the scheme reads ends within so many days
    balance_below_cents: int | None = None
    balance_below_percent: int | None = None  # balance under this share of the value
    text: str = field(default="", repr=False)

    def for_audit(self) -> dict:
        """The filters as an audit event keeps them: everything but the text."""
        data = {k: v for k, v in asdict(self).items() if v is not None and k != "text"}
        if self.text.strip():
            data["search"] = read_audit.search_purpose(self.text)
        return data

    @property
    def on_vouchers(self) -> bool:
        """Whether a filter concerns vouchers: a person's list then asks for one."""
        voucher_fields = ("scheme_id", "status", "expiring_days", "balance_below_cents")
        fields = (*voucher_fields, "balance_below_percent")
        return any(getattr(self, name) is not None for name in fields)


@dataclass
class Page:
    """One page of a list: its rows, the whole list's count and where the page is."""

    rows: list
    total: int
    page: int
    pages: int
    size: int = PAGE_SIZE


@dataclass(frozen=True)
class PersonRow:
    """A person of the list, with what their vouchers in reach add up to."""

    person: Beneficiary
    open_vouchers: int
    next_expiry: date | None
    open_balance_cents: int


# The conditions


def _text_clause(text: str):
    """A codice fiscale or its beginning (a text with a digit is nothing else), or part of
    the name: one word within the name or the surname, several in either order. The people
    the search of beneficiaries finds, each condition as cheap as it can be."""
    words = (text or "").split()
    code = "".join(words).upper()
    # A range that the codice fiscale's unique index serves whatever the collation: codes
    # are capital letters and digits, so each one that begins with `code` lies within it.
    by_code = and_(
        Beneficiary.fiscal_code.between(code, code + "Z" * (16 - len(code))),
        Beneficiary.fiscal_code.startswith(code, autoescape=True),
    )
    if any(c.isdigit() for c in code):
        return by_code
    text = " ".join(words).lower()
    first, last = func.lower(Beneficiary.first_name), func.lower(Beneficiary.last_name)
    if len(words) > 1:
        first, last = first + " " + last, last + " " + first
    return or_(by_code, first.contains(text, autoescape=True), last.contains(text, autoescape=True))


def _voucher_conditions(filters: Filters, today: date) -> list:
    """The conditions on Voucher of the filters that concern vouchers."""
    conditions = []
    if filters.scheme_id is not None:
        conditions.append(Voucher.scheme_id == filters.scheme_id)
    if filters.status:
        conditions.append(Voucher.status == filters.status)
    if filters.expiring_days is not None:
        if not filters.status:  # a revoked or spent voucher does not "expire"
            conditions.append(Voucher.status.in_(_OPEN))
        last = today + timedelta(days=filters.expiring_days)
        conditions.append(Voucher.valid_until.between(today, last))
    if filters.balance_below_cents is not None:
        conditions.append(Voucher.balance_cents < filters.balance_below_cents)
    if filters.balance_below_percent is not None:
        conditions.append(
            Voucher.balance_cents * 100 < Voucher.value_cents * filters.balance_below_percent
        )
    return conditions


def _isee_expiring_pairs(today: date, days: int):
    """(person, ISEE type) of every newest record that ends within `days` days
    (isee.expiring_records' notion of newest: by DSU date, then by entry): the few such
    pairs, found once from the records' side rather than probed for each row listed."""
    record, newest = aliased(IseeRecord), aliased(IseeRecord)
    newest_id = (
        select(newest.id)
        .where(newest.beneficiary_id == record.beneficiary_id, newest.type == record.type)
        .order_by(newest.dsu_date.desc().nulls_last(), newest.id.desc())
        .limit(1)
        .correlate(record)
        .scalar_subquery()
    )
    return select(record.beneficiary_id, record.type).where(
        record.valid_until.between(today, today + timedelta(days=days)),
        record.id == newest_id,
    )


def _scheme_isee_type(scheme_id: int):
    """The ISEE type a scheme reads (ordinario unless it says otherwise), as SQL."""
    return (
        select(func.coalesce(Scheme.isee_type, "ordinario"))
        .where(Scheme.id == scheme_id)
        .scalar_subquery()
    )


# The people


def _people_query(actor: Actor, filters: Filters) -> Select:
    today = clock.today()
    query = reach.within_reach(actor, select(Beneficiary), Beneficiary)
    if filters.comune_id is not None:
        query = query.where(Beneficiary.comune_id == filters.comune_id)
    if filters.text.strip():
        query = query.where(_text_clause(filters.text))
    if filters.on_vouchers:
        conditions = [
            Voucher.beneficiary_id == Beneficiary.id,
            *_voucher_conditions(filters, today),
        ]
        seen = reach.voucher_clause(actor)
        if seen is not None:
            conditions.append(seen)
        query = query.where(exists().where(*conditions))
    if filters.isee_expiring_days is not None:
        pairs = _isee_expiring_pairs(today, filters.isee_expiring_days).subquery()
        expiring = select(pairs.c.beneficiary_id).distinct()
        if filters.scheme_id is not None:  # the type that scheme reads; else any type
            expiring = expiring.where(pairs.c.type == _scheme_isee_type(filters.scheme_id))
        expiring = expiring.subquery()  # joined: the planner starts from the few people
        query = query.join(expiring, expiring.c.beneficiary_id == Beneficiary.id)
    return query


def _people_order(sort: str) -> list:
    if sort == "recenti":
        return [Beneficiary.id.desc()]
    return [Beneficiary.last_name, Beneficiary.first_name, Beneficiary.id]


def _people_rows(actor: Actor, query: Select, sort: str, offset: int, limit: int) -> Select:
    """The page's people (ids first, then the Comune and the sums of their open vouchers in
    reach, for those rows only, in the same statement)."""
    page = (
        query.with_only_columns(Beneficiary.id)
        .order_by(*_people_order(sort))
        .offset(offset)
        .limit(limit)
        .subquery()
    )
    mine = [Voucher.beneficiary_id == Beneficiary.id, Voucher.status.in_(_OPEN)]
    seen = reach.voucher_clause(actor)
    if seen is not None:
        mine.append(seen)

    def per_person(column):
        return select(column).where(*mine).correlate(Beneficiary).scalar_subquery()

    return (
        select(
            Beneficiary,
            per_person(func.count(Voucher.id)),
            per_person(func.min(Voucher.valid_until)),
            per_person(func.coalesce(func.sum(Voucher.balance_cents), 0)),
        )
        .join(page, page.c.id == Beneficiary.id)
        .join(Beneficiary.comune)
        .options(contains_eager(Beneficiary.comune))
        .order_by(*_people_order(sort))
    )


def _count(query: Select) -> int:
    _without_jit()
    return db.session.execute(
        query.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    ).scalar_one()


def _without_jit() -> None:
    """PostgreSQL compiles a query to machine code (JIT) when its estimated cost is high,
    as the reach's subqueries make it look: a second spent to run a list of 100 ms. Off
    for the lists of this transaction, which are all short."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def _paged(query: Select, page: int) -> tuple[int, int, int]:
    """(total, page, pages), the page brought within the list."""
    total = _count(query)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    return total, min(max(1, page), pages, MAX_PAGE), pages


def list_people(actor: Actor, filters: Filters, sort: str = "nome", page: int = 1) -> Page:
    """One page of the people in the actor's reach that the filters keep."""
    sort = sort if sort in PEOPLE_SORTS else PEOPLE_SORTS[0]
    query = _people_query(actor, filters)
    total, page, pages = _paged(query, page)
    statement = _people_rows(actor, query, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    rows = [PersonRow(*row) for row in db.session.execute(statement)] if total else []
    return Page(rows, total, page, pages)


# The vouchers


def _vouchers_query(actor: Actor, filters: Filters) -> Select:
    today = clock.today()
    query = reach.within_reach(actor, select(Voucher), Voucher)
    if filters.comune_id is not None:
        query = query.where(Voucher.comune_id == filters.comune_id)
    query = query.where(*_voucher_conditions(filters, today))
    if filters.text.strip():
        person = select(Beneficiary.id).where(_text_clause(filters.text))
        query = query.where(Voucher.beneficiary_id.in_(person))
    if filters.isee_expiring_days is not None:
        isee_type = func.coalesce(Scheme.isee_type, "ordinario")  # the type its scheme reads
        # A join, not a semi-join: the planner then starts from the few people concerned
        # and reaches their vouchers through the index on beneficiary_id (one pair per
        # person and type, so no voucher repeats).
        pairs = _isee_expiring_pairs(today, filters.isee_expiring_days).subquery()
        query = query.join(Scheme, Scheme.id == Voucher.scheme_id).join(
            pairs,
            and_(pairs.c.beneficiary_id == Voucher.beneficiary_id, pairs.c.type == isee_type),
        )
    return query


def _voucher_order(sort: str) -> list:
    if sort == "nome":
        return [Beneficiary.last_name, Beneficiary.first_name, Voucher.id]
    if sort == "scadenza":
        return [Voucher.valid_until, Voucher.id]
    if sort == "saldo":
        return [Voucher.balance_cents, Voucher.id]
    return [Voucher.issued_at.desc(), Voucher.id.desc()]


def _voucher_rows(query: Select, sort: str, offset: int, limit: int) -> Select:
    """The page's vouchers, ids first (sorted and cut on the voucher table and its indexes,
    the person's name joined only to sort by it), then with their person, scheme and
    Comune, in one statement."""
    page = query.with_only_columns(Voucher.id)
    if sort == "nome":
        page = page.join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
    page = page.order_by(*_voucher_order(sort)).offset(offset).limit(limit).subquery()
    return (
        select(Voucher)
        .join(page, page.c.id == Voucher.id)
        .join(Voucher.beneficiary)
        .join(Voucher.scheme)
        .join(Voucher.comune)
        .options(
            contains_eager(Voucher.beneficiary),
            contains_eager(Voucher.scheme),
            contains_eager(Voucher.comune),
        )
        .order_by(*_voucher_order(sort))
    )


def list_vouchers(actor: Actor, filters: Filters, sort: str = "emissione", page: int = 1) -> Page:
    """One page of the vouchers in the actor's reach that the filters keep."""
    sort = sort if sort in VOUCHER_SORTS else VOUCHER_SORTS[0]
    query = _vouchers_query(actor, filters)
    total, page, pages = _paged(query, page)
    statement = _voucher_rows(query, sort, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    rows = list(db.session.execute(statement).scalars()) if total else []
    return Page(rows, total, page, pages)


# Whole lists, for the files


def all_people(actor: Actor, filters: Filters, sort: str = "nome") -> Iterator[PersonRow]:
    """Every person of the list, read in batches (TooManyRows beyond EXPORT_LIMIT)."""
    query = _people_query(actor, filters)
    if _count(query) > EXPORT_LIMIT:
        raise TooManyRows
    statement = _people_rows(actor, query, sort, 0, EXPORT_LIMIT)
    rows = db.session.execute(statement.execution_options(yield_per=1000))
    return (PersonRow(*row) for row in rows)


def all_vouchers(actor: Actor, filters: Filters, sort: str = "emissione") -> Iterator[Voucher]:
    """Every voucher of the list, read in batches (TooManyRows beyond EXPORT_LIMIT)."""
    query = _vouchers_query(actor, filters)
    if _count(query) > EXPORT_LIMIT:
        raise TooManyRows
    sort = sort if sort in VOUCHER_SORTS else VOUCHER_SORTS[0]
    statement = _voucher_rows(query, sort, 0, EXPORT_LIMIT)
    return iter(db.session.execute(statement.execution_options(yield_per=1000)).scalars())


# The reads, audited


def record_list_read(
    actor: Actor,
    people_ids: list[int],
    purpose: str,
    filters: Filters,
    *,
    outside: int | None = None,
) -> None:
    """A page of a list (or of a search) read: one event with the ids of the people it
    showed and the filters, never the text searched for (read_audit.record_search)."""
    data: dict = {"purpose": purpose, "ids": list(dict.fromkeys(people_ids))}
    data["filters"] = filters.for_audit()
    if outside is not None:
        data["outside_team"] = outside
    audit.record(actor, "beneficiary.searched", "beneficiary", None, **data)


def record_export(actor: Actor, kind: str, fmt: str, count: int, filters: Filters) -> None:
    """An export is a read of every person in it: one event with how many rows, the list,
    the format and the filters; no name and no id (the filters say which)."""
    data = {"purpose": EXPORT, "list": kind, "format": fmt, "count": count}
    audit.record(
        actor, "beneficiary.searched", "beneficiary", None, **data, filters=filters.for_audit()
    )


# The person's page, kept in a module of its own, and served from here too.
from .timeline import timeline  # noqa: E402, F401
