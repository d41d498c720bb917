"""Bulk import of beneficiaries: a CSV of people, checked row by row (a dry run) and kept
as a draft, then confirmed or discarded, as bulk issuance is.

- A row is planned for registration, or refused with a reason and a message (the dry run
  and its reasons are in beneficiary_import_checks).
- A codice fiscale that disagrees with the name, sex or birth date of its row
  (services.fiscal_match) does not refuse the row: the row is planned with a `warning`. The
  confirmation registers such rows only when the social worker ticks that they checked them;
  otherwise they are left out, refused as `fiscal_code_mismatch`. Nothing doubtful is ever
  registered without an explicit yes.
- Confirmation registers each planned row through register_beneficiary, the function of a
  single registration (so each person has their `beneficiary.registered` event), in one
  transaction: a row that fails then (registered meanwhile by a colleague) is refused with
  its reason, inside a savepoint, and the others go on.
- An import is its uploader's: nobody else sees its rows, confirms or discards it.
- The rows' details (names, contacts) and fiscal codes are erased at confirmation or discard;
  a draft nobody confirms is discarded by the nightly job after DRAFT_LIFETIME.
- The audit trail records counts only.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import func, null, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..db import domain_error_for
from ..errors import Conflict, DomainError, DuplicateBeneficiary, NotFound
from ..extensions import db
from ..models import BeneficiaryImport, BeneficiaryImportRow
from . import Actor, audit, clock
from .beneficiaries import register_beneficiary
from .beneficiary_import_checks import DryRun, plan_row
from .beneficiary_import_files import MAX_ROWS, read_people

DRAFT_LIFETIME = timedelta(days=1)


def create_import(
    actor: Actor,
    data: bytes,
    *,
    category_labels: Mapping[str, str] | None = None,
    max_rows: int = MAX_ROWS,
) -> BeneficiaryImport:
    """Read the file and keep its dry run as a draft. `category_labels` (code -> label) lets
    the file name categories by their Italian labels as well as by their codes."""
    rows = read_people(data, max_rows)
    context = DryRun(actor, rows, category_labels or {})
    seen: dict[str, int] = {}
    planned = [plan_row(row, context, seen) for row in rows]
    beneficiary_import = BeneficiaryImport(
        created_by_id=actor.user_id,
        status="draft",
        total=len(planned),
        planned=sum(1 for p in planned if p.outcome == "register"),
        refused=sum(1 for p in planned if p.outcome == "refused"),
        rows=planned,
    )
    db.session.add(beneficiary_import)
    db.session.flush()
    audit.record(
        actor,
        "beneficiary_import.created",
        "beneficiary_import",
        beneficiary_import.id,
        total=beneficiary_import.total,
        planned=beneficiary_import.planned,
        refused=beneficiary_import.refused,
        warnings=sum(1 for p in planned if p.warning),
    )
    return beneficiary_import


def _lock(actor: Actor, beneficiary_import: BeneficiaryImport) -> BeneficiaryImport:
    """The import locked and read afresh, still a draft: of two confirmations (two tabs, a
    replay) only the first finds it so."""
    locked = db.session.execute(
        select(BeneficiaryImport)
        .where(BeneficiaryImport.id == beneficiary_import.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    _require_owner(actor, locked)
    if locked.status != "draft":
        raise Conflict("L'importazione è già stata confermata o annullata.")
    return locked


def _forget_details(beneficiary_import: BeneficiaryImport) -> None:
    """Personal data is kept no longer than needed: what stays is each row's outcome."""
    for row in beneficiary_import.rows:
        row.data = null()  # SQL NULL, not the JSON text "null"
        row.fiscal_code = None
    db.session.flush()


def _register_row(actor: Actor, row: BeneficiaryImportRow) -> None:
    details = {k: v for k, v in (row.data or {}).items() if k != "comune_name"}
    try:
        with db.session.begin_nested():
            person = register_beneficiary(actor, fiscal_code=row.fiscal_code or "", **details)
    except IntegrityError as error:
        refusal = domain_error_for(error)
        if refusal is None:
            raise
        _refuse_at_confirm(row, refusal)
        return
    except DomainError as refusal:
        _refuse_at_confirm(row, refusal)
        return
    row.beneficiary_id = person.id


def _refuse_at_confirm(row: BeneficiaryImportRow, error: DomainError) -> None:
    row.outcome = "refused"
    if isinstance(error, DuplicateBeneficiary):
        row.reason = "already_registered"
    else:
        row.reason = "invalid_details"
    messages = [m for msgs in (error.errors or {}).values() for m in msgs]
    row.message = (" ".join(str(m) for m in messages) or error.detail)[:300]


def confirm_import(
    actor: Actor, beneficiary_import: BeneficiaryImport, *, include_warnings: bool = False
) -> BeneficiaryImport:
    """Register the planned rows; rows with a warning only with `include_warnings` (the
    social worker ticked that they checked them), otherwise they are refused."""
    beneficiary_import = _lock(actor, beneficiary_import)
    if beneficiary_import.planned == 0:
        raise Conflict("Nell'importazione non c'è nessuna persona da registrare.")
    for row in beneficiary_import.rows:
        if row.outcome != "register":
            continue
        if row.warning and not include_warnings:
            row.outcome, row.reason = "refused", "fiscal_code_mismatch"
            row.message = "Non registrato: l'avviso sul codice fiscale non è stato confermato."
            continue
        _register_row(actor, row)
    registered = sum(1 for r in beneficiary_import.rows if r.beneficiary_id is not None)
    beneficiary_import.registered = registered
    beneficiary_import.refused = beneficiary_import.total - registered
    beneficiary_import.status = "done"
    beneficiary_import.confirmed_at = clock.now()
    db.session.flush()
    _forget_details(beneficiary_import)
    audit.record(
        actor,
        "beneficiary_import.confirmed",
        "beneficiary_import",
        beneficiary_import.id,
        registered=registered,
        refused=beneficiary_import.refused,
    )
    return beneficiary_import


def discard_import(actor: Actor, beneficiary_import: BeneficiaryImport) -> None:
    """Drop a draft: nobody is registered, and the rows' details are erased."""
    beneficiary_import = _lock(actor, beneficiary_import)
    _discard(beneficiary_import)
    audit.record(
        actor,
        "beneficiary_import.discarded",
        "beneficiary_import",
        beneficiary_import.id,
        total=beneficiary_import.total,
    )


def _discard(beneficiary_import: BeneficiaryImport) -> None:
    beneficiary_import.status = "discarded"
    db.session.flush()
    _forget_details(beneficiary_import)


def discard_stale_drafts(actor: Actor, now: datetime | None = None) -> int:
    """The nightly job: discard the drafts older than DRAFT_LIFETIME, with their details.
    Returns how many."""
    cutoff = (now or clock.now()) - DRAFT_LIFETIME
    stale = (
        db.session.execute(
            select(BeneficiaryImport)
            .where(BeneficiaryImport.status == "draft", BeneficiaryImport.created_at <= cutoff)
            .order_by(BeneficiaryImport.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    for beneficiary_import in stale:
        _discard(beneficiary_import)
        audit.record(
            actor,
            "beneficiary_import.discarded",
            "beneficiary_import",
            beneficiary_import.id,
            total=beneficiary_import.total,
            expired=True,
        )
    return len(stale)


# Reading imports: each is its uploader's only.


def _require_owner(actor: Actor, beneficiary_import: BeneficiaryImport) -> None:
    if actor.user_id is None or beneficiary_import.created_by_id != actor.user_id:
        raise NotFound("Importazione non trovata.")


def get_import(actor: Actor, import_id: int) -> BeneficiaryImport:
    """The actor's own import, or NotFound (someone else's reads as missing)."""
    beneficiary_import = db.session.get(BeneficiaryImport, import_id)
    if beneficiary_import is None:
        raise NotFound("Importazione non trovata.")
    _require_owner(actor, beneficiary_import)
    return beneficiary_import


def list_imports(actor: Actor, limit: int = 50) -> list[BeneficiaryImport]:
    """The actor's latest imports, newest first."""
    return list(
        db.session.execute(
            select(BeneficiaryImport)
            .where(BeneficiaryImport.created_by_id == actor.user_id)
            .order_by(BeneficiaryImport.id.desc())
            .limit(limit)
        ).scalars()
    )


def refused_by_reason(beneficiary_import: BeneficiaryImport) -> dict[str, int]:
    """How many rows are refused, per reason code."""
    rows = db.session.execute(
        select(BeneficiaryImportRow.reason, func.count())
        .where(
            BeneficiaryImportRow.import_id == beneficiary_import.id,
            BeneficiaryImportRow.outcome == "refused",
        )
        .group_by(BeneficiaryImportRow.reason)
        .order_by(BeneficiaryImportRow.reason)
    )
    return {code or "": count for code, count in rows}


def import_rows(
    beneficiary_import: BeneficiaryImport, *, offset: int = 0, limit: int = 200
) -> list[BeneficiaryImportRow]:
    """A page of the import's rows in file order, with the people registered."""
    return list(
        db.session.execute(
            select(BeneficiaryImportRow)
            .where(BeneficiaryImportRow.import_id == beneficiary_import.id)
            .order_by(BeneficiaryImportRow.line)
            .offset(offset)
            .limit(limit)
            .options(selectinload(BeneficiaryImportRow.beneficiary))
        ).scalars()
    )


def warned_rows(beneficiary_import: BeneficiaryImport) -> list[BeneficiaryImportRow]:
    """The planned rows whose codice fiscale disagrees with the name: the confirmation lists
    them all, on whatever page of the table they are."""
    return list(
        db.session.execute(
            select(BeneficiaryImportRow)
            .where(
                BeneficiaryImportRow.import_id == beneficiary_import.id,
                BeneficiaryImportRow.outcome == "register",
                BeneficiaryImportRow.warning.is_not(None),
            )
            .order_by(BeneficiaryImportRow.line)
        ).scalars()
    )
