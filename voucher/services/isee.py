"""ISEE records (DPCM 159/2013): which one counts for a scheme on a day, and the coverage
it gives.

A scheme reads one ISEE type (`isee_type`, default `ordinario`): the newest record of that
type valid on the day (by DSU date, then by entry). Without one, a scheme with
`isee_required` refuses the voucher; otherwise a scheme with compartecipazione bands applies
its last band, where the family pays most, as most regolamenti do. A scheme with an ISEE
ceiling (`isee_max_cents`) always needs an ISEE: the ceiling cannot be checked without one.
"""

from datetime import date

from sqlalchemy import select

from ..extensions import db
from ..models import Beneficiary, IseeRecord, Scheme
from .schemes import coverage_for


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
