"""ISEE records (DPCM 159/2013): which one counts for a scheme on a day, and the coverage
it gives.

A scheme reads one ISEE type (`isee_type`, default `ordinario`): the newest record of that
type valid on the day (by DSU date, then by entry). Without one, a scheme with
`isee_required` refuses the voucher; otherwise a scheme with compartecipazione bands applies
its last band, where the family pays most, as most regolamenti do. A scheme with an ISEE
ceiling (`isee_max_cents`) always needs an ISEE: the ceiling cannot be checked without one.

Records are entered here (add_isee_record) and never changed: a renewal adds one. A new
record re-bands the person's open vouchers (reband_vouchers), from the first day of the month
after its DSU date, as the regolamenti of the compartecipazione usually phrase it.
"""

import re
from datetime import date

from sqlalchemy import func, select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import ISEE_TYPES, Beneficiary, IseeRecord, Scheme, Voucher, VoucherCoverage
from ..models.status import OPEN_VOUCHER_STATUSES
from ..periods import Month
from . import Actor, audit, clock
from .coverage import coverage_on
from .schemes import coverage_for

# The protocol INPS gives the DSU (Dichiarazione Sostitutiva Unica).
DSU_PROTOCOL = re.compile(r"^INPS-ISEE-\d{4}-\d{9}-\d{2}$")
MAX_VALUE_CENTS = 2**31 - 1  # value_cents is a 32-bit INTEGER column


def record_valid_on(record: IseeRecord, day: date) -> bool:
    return (record.valid_until is None or record.valid_until >= day) and (
        record.dsu_date is None or record.dsu_date <= day
    )


def isee_record_for(person: Beneficiary, isee_type: str, day: date) -> IseeRecord | None:
    """The newest record of the type valid on the day, or None."""
    if person.id is None:
        return None
    records = db.session.execute(
        select(IseeRecord)
        .where(IseeRecord.beneficiary_id == person.id, IseeRecord.type == isee_type)
        .order_by(IseeRecord.dsu_date.desc().nulls_last(), IseeRecord.id.desc())
    ).scalars()
    return next((r for r in records if record_valid_on(r, day)), None)


def isee_needed(scheme: Scheme) -> bool:
    """The scheme refuses a person without a valid ISEE of its type."""
    return scheme.isee_required or scheme.isee_max_cents is not None


def coverage_terms(
    scheme: Scheme, person: Beneficiary, day: date
) -> tuple[int | None, IseeRecord | None]:
    """The coverage the scheme gives the person on the day, and the ISEE record it comes
    from (None when no record counts). Coverage None: no band applies (ISEE beyond the
    last band, or no ISEE where one is needed)."""
    record = isee_record_for(person, scheme.isee_type or "ordinario", day)
    if not scheme.copay_bands:
        return 100, record
    if record is not None:
        return coverage_for(scheme, record.value_cents), record
    if isee_needed(scheme):
        return None, None
    return scheme.copay_bands[-1].coverage_percent, None


# Entering records


def _validate_record(
    isee_type, value_cents, dsu_protocol, dsu_date, valid_until, today: date
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if isee_type not in ISEE_TYPES:
        errors["type"] = ["Tipo di ISEE: ordinario, sociosanitario, minorenni o corrente."]
    if value_cents is None:
        errors["value_cents"] = ["Indicare il valore dell'ISEE."]
    elif not isinstance(value_cents, int) or isinstance(value_cents, bool):
        errors["value_cents"] = ["Il valore dell'ISEE è un numero intero di centesimi."]
    elif value_cents < 0:
        errors["value_cents"] = ["Il valore dell'ISEE non può essere negativo."]
    elif value_cents > MAX_VALUE_CENTS:
        errors["value_cents"] = ["Valore dell'ISEE troppo grande."]
    if not dsu_protocol:
        errors["dsu_protocol"] = ["Indicare il protocollo della DSU."]
    elif not DSU_PROTOCOL.match(dsu_protocol):
        errors["dsu_protocol"] = [
            "Protocollo della DSU non valido: il formato è INPS-ISEE-AAAA-NNNNNNNNN-NN."
        ]
    if dsu_date is None:
        errors["dsu_date"] = ["Indicare la data di presentazione della DSU."]
    elif dsu_date > today:
        errors["dsu_date"] = ["La data della DSU non può essere futura."]
    if valid_until is None:
        errors["valid_until"] = ["Indicare la scadenza dell'ISEE."]
    elif dsu_date is not None and dsu_date <= today and valid_until < dsu_date:
        errors["valid_until"] = ["La scadenza dell'ISEE precede la data della DSU."]
    return errors


def add_isee_record(
    actor: Actor,
    person: Beneficiary,
    *,
    type: str,
    value_cents: int,
    dsu_protocol: str,
    dsu_date: date,
    valid_until: date,
) -> IseeRecord:
    """Record an ISEE certificate for the person, then re-band their open vouchers. The
    audit names the record and its type, never its value (personal data)."""
    protocol = (dsu_protocol or "").strip().upper()
    errors = _validate_record(type, value_cents, protocol, dsu_date, valid_until, clock.today())
    if errors:
        raise ValidationFailed("Dati dell'ISEE non validi.", errors=errors)
    record = IseeRecord(
        type=type,
        value_cents=value_cents,
        dsu_protocol=protocol,
        dsu_date=dsu_date,
        valid_until=valid_until,
        created_by_id=actor.user_id,
    )
    person.isee_records.append(record)
    shortcut = (value_cents, valid_until)
    if (
        type == "ordinario"
        and _is_newest(person, record)
        and (person.isee_cents, person.isee_valid_until) != shortcut
    ):
        # The shortcut shows the newest ordinario record; it must not make a second one.
        person.isee_cents, person.isee_valid_until = shortcut
        person.__dict__["_isee_from_record"] = True
    db.session.flush()
    audit.record(
        actor, "beneficiary.isee_recorded", "beneficiary", person.id, record_id=record.id, type=type
    )
    reband_vouchers(actor, person, record, Month.of(dsu_date).end)
    return record


def _order_key(record: IseeRecord) -> tuple:
    """isee_record_for's order, as a key: a DSU date beats none, a later one an earlier
    one, and for equal dates the later entry wins."""
    return (record.dsu_date is not None, record.dsu_date or date.min, record.id or 2**63)


def _is_newest(person: Beneficiary, record: IseeRecord) -> bool:
    others = [r for r in person.isee_records if r is not record and r.type == record.type]
    return all(_order_key(r) < _order_key(record) for r in others)


def list_isee_records(person: Beneficiary) -> list[IseeRecord]:
    """The person's records, newest first (by DSU date, then by entry)."""
    return list(
        db.session.execute(
            select(IseeRecord)
            .where(IseeRecord.beneficiary_id == person.id)
            .order_by(IseeRecord.dsu_date.desc().nulls_last(), IseeRecord.id.desc())
        ).scalars()
    )


# Re-banding the open vouchers


def band_coverage(scheme: Scheme, value_cents: int) -> int:
    """The coverage of the band the ISEE falls in; beyond the last band, the last band's.

    The bands measure the family's share of a voucher already granted; the ISEE ceiling
    for access (the bands, or `isee_max_cents`) is checked at issue. A renewal beyond the
    last band therefore leaves the family at the highest share rather than cutting the
    voucher to zero: taking a granted benefit away is a revocation, an act of its own with
    its reasons (L. 241/1990, art. 21-quinquies), not a side effect of a new DSU. It is
    also what the scheme gives a person with no valid ISEE, so presenting a DSU never
    leaves a family worse off than not presenting one."""
    coverage = coverage_for(scheme, value_cents)
    return scheme.copay_bands[-1].coverage_percent if coverage is None else coverage


def _open_vouchers_reading(person: Beneficiary, isee_type: str) -> list[Voucher]:
    """The person's active and suspended vouchers of schemes with bands reading the type."""
    vouchers = db.session.execute(
        select(Voucher)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .where(
            Voucher.beneficiary_id == person.id,
            Voucher.status.in_([s.value for s in OPEN_VOUCHER_STATUSES]),
            func.coalesce(Scheme.isee_type, "ordinario") == isee_type,
        )
        .order_by(Voucher.id)
    ).scalars()
    return [v for v in vouchers if v.scheme.copay_bands]


def reband_vouchers(
    actor: Actor, person: Beneficiary, record: IseeRecord, from_date: date
) -> list[VoucherCoverage]:
    """Apply a new record to the person's open vouchers of schemes with bands that read its
    type: from `from_date` (never before a voucher's first day) each covers the record's
    band, when that differs from the coverage then in force. Redemptions already recorded
    keep their shares; later ones read the new coverage by their service date.

    Nothing changes while another record of the type, valid on `from_date`, takes
    precedence (a later DSU, or any DSU over a record without one): entering an older
    certificate late does not undo a newer one. Returns the coverage periods added."""
    counting = isee_record_for(person, record.type, from_date)
    if counting not in (None, record) and _order_key(counting) > _order_key(record):
        return []
    added = []
    for voucher in _open_vouchers_reading(person, record.type):
        start = max(from_date, voucher.valid_from)
        if start > voucher.valid_until:
            continue
        before = coverage_on(voucher, start)
        after = band_coverage(voucher.scheme, record.value_cents)
        if after == before:
            continue
        period = VoucherCoverage(coverage_percent=after, from_date=start, isee_record=record)
        voucher.coverages.append(period)
        added.append(period)
        audit.record(
            actor,
            "voucher.coverage_changed",
            "voucher",
            voucher.code,
            from_percent=before,
            to_percent=after,
            from_date=start.isoformat(),
            isee_record_id=record.id,
        )
    db.session.flush()
    return added


def reband_from_shortcut(actor: Actor, person: Beneficiary) -> list[VoucherCoverage]:
    """After the `isee_cents` shortcut made an ordinario record (it has no DSU date): the
    re-banding from the first day of next month."""
    record = db.session.execute(
        select(IseeRecord)
        .where(IseeRecord.beneficiary_id == person.id, IseeRecord.type == "ordinario")
        .order_by(IseeRecord.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if record is None:
        return []
    return reband_vouchers(actor, person, record, Month.of(clock.today()).end)


# Renewals due


def expiring_records(first: date, last: date) -> list[IseeRecord]:
    """The newest record of each person and type (isee_record_for's order) whose validity
    ends between `first` and `last`, soonest first: the renewals to ask for."""
    rank = (
        func.row_number()
        .over(
            partition_by=(IseeRecord.beneficiary_id, IseeRecord.type),
            order_by=(IseeRecord.dsu_date.desc().nulls_last(), IseeRecord.id.desc()),
        )
        .label("rank")
    )
    newest = select(IseeRecord.id, rank).subquery()
    return list(
        db.session.execute(
            select(IseeRecord)
            .join(newest, newest.c.id == IseeRecord.id)
            .join(Beneficiary, Beneficiary.id == IseeRecord.beneficiary_id)
            .where(newest.c.rank == 1, IseeRecord.valid_until.between(first, last))
            .order_by(
                IseeRecord.valid_until,
                Beneficiary.last_name,
                Beneficiary.first_name,
                IseeRecord.type,
            )
        ).scalars()
    )


def coverage_changes(record: IseeRecord) -> list[VoucherCoverage]:
    """The coverage periods the record set: by re-banding when it was entered, and at issue
    on vouchers issued since."""
    return list(
        db.session.execute(
            select(VoucherCoverage).where(VoucherCoverage.isee_record_id == record.id)
        ).scalars()
    )
