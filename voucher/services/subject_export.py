"""Data-subject requests (GDPR artt. 15 and 20): everything the system holds about one person,
gathered for the admin who answers the request. Every export is audited, with its reason.

What is included: the person's record, their household (its label and how many others
belong to it: the others' data are theirs, art. 15(4)), their ISEE records, their vouchers
with the Comune and coverage history, every ledger entry of those vouchers with the
provider that recorded it, the SIUSS flows sent to INPS about them, their rows in
bulk-issuance files, and the audit events about them, their vouchers and their household.
Audit events name the kind of actor, not the employee (CJEU C-579/21, Pankki S): the admin
finds who in the audit log when the request needs it.
"""

from datetime import UTC, datetime

from sqlalchemy import and_, or_, select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import (
    AuditEvent,
    Beneficiary,
    IssueBatchRow,
    LedgerEntry,
    SiussFlow,
    Voucher,
)
from . import Actor, audit, clock
from .ente import get_ente

FORMATS = ("json", "pdf")
MAX_REASON = 500


def _person(person: Beneficiary) -> dict:
    return {
        "id": person.id,
        "fiscal_code": person.fiscal_code,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "birth_date": person.birth_date,
        "sex": person.sex,
        "citizenship": person.citizenship,
        "comune_istat": person.comune.istat_code,
        "comune_name": person.comune.name,
        "categories": list(person.categories or []),
        "isee_cents": person.isee_cents,
        "isee_valid_until": person.isee_valid_until,
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
        "representative_fiscal_code": person.representative_fiscal_code,
        "representative_role": person.representative_role,
        "notify_email": person.notify_email,
        "notify_io": person.notify_io,
        "notify_language": person.notify_language,
        "registered_at": person.created_at,
        "pseudonymised_at": person.pseudonymised_at,
    }


def _household(person: Beneficiary) -> dict | None:
    household = person.household
    if household is None:
        return None
    others = sum(1 for member in household.members if member.id != person.id)
    return {"id": household.id, "label": household.label, "other_members": others}


def _isee_records(person: Beneficiary) -> list[dict]:
    return [
        {
            "id": record.id,
            "type": record.type,
            "value_cents": record.value_cents,
            "dsu_protocol": record.dsu_protocol,
            "dsu_date": record.dsu_date,
            "valid_until": record.valid_until,
            "entered_at": record.created_at,
        }
        for record in sorted(person.isee_records, key=lambda r: r.id)
    ]


def _voucher(voucher: Voucher) -> dict:
    return {
        "code": voucher.code,
        "scheme_name": voucher.scheme.name,
        "scheme_year": voucher.scheme.year,
        "fund_code": voucher.scheme.fund_code,
        "status": voucher.status,
        "value_cents": voucher.value_cents,
        "balance_cents": voucher.balance_cents,
        "coverage_percent": voucher.coverage_percent,
        "valid_from": voucher.valid_from,
        "valid_until": voucher.valid_until,
        "issued_at": voucher.issued_at,
        "revoked_at": voucher.revoked_at,
        "revoke_reason": voucher.revoke_reason,
        "comune_istat": voucher.comune.istat_code,
        "replaces": voucher.replaces.code if voucher.replaces else None,
        "competences": [
            {"comune_istat": c.comune.istat_code, "from_date": c.from_date, "reason": c.reason}
            for c in voucher.competences
        ],
        "coverages": [
            {
                "coverage_percent": c.coverage_percent,
                "from_date": c.from_date,
                "isee_record_id": c.isee_record_id,
            }
            for c in voucher.coverages
        ],
    }


def _ledger(voucher_ids: list[int]) -> list[dict]:
    entries = db.session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.voucher_id.in_(voucher_ids))
        .order_by(LedgerEntry.service_date, LedgerEntry.id)
    ).scalars()
    return [
        {
            "id": e.id,
            "kind": e.kind,
            "voucher_code": e.voucher.code,
            "service_code": e.service_code,
            "service_name": e.service.name_it,
            "service_date": e.service_date,
            "provider_name": e.provider.name,
            "quantity": e.quantity,
            "hours": e.hours,
            "amount_cents": e.amount_cents,
            "public_cents": e.public_cents,
            "copay_cents": e.copay_cents,
            "comune_istat": e.comune.istat_code,
            "reverses": e.reverses_id,
            "reason": e.reason,
            "recorded_at": e.created_at,
        }
        for e in entries.all()
    ]


def _siuss_flows(voucher_ids: list[int]) -> list[dict]:
    flows = db.session.execute(
        select(SiussFlow)
        .where(SiussFlow.voucher_id.in_(voucher_ids))
        .order_by(SiussFlow.period, SiussFlow.ts_ms)
    ).scalars()
    return [
        {
            "id_flusso": f.id_flusso,
            "period": f.period,
            "operation": f.operation,
            "voucher_code": f.voucher.code,
            "public_cents": f.public_cents,
            "copay_cents": f.copay_cents,
            "created_at": f.created_at,
        }
        for f in flows.all()
    ]


def _batch_rows(person: Beneficiary) -> list[dict]:
    rows = db.session.execute(
        select(IssueBatchRow)
        .where(IssueBatchRow.beneficiary_id == person.id)
        .order_by(IssueBatchRow.batch_id, IssueBatchRow.line)
    ).scalars()
    return [
        {
            "batch_id": row.batch_id,
            "line": row.line,
            "fiscal_code": row.fiscal_code,
            "note": row.note,
            "outcome": row.outcome,
            "result": row.result,
            "message": row.message,
        }
        for row in rows.all()
    ]


def _audit_events(person: Beneficiary, voucher_codes: list[str]) -> list[dict]:
    about = [and_(AuditEvent.object_type == "beneficiary", AuditEvent.object_id == str(person.id))]
    if voucher_codes:
        about.append(
            and_(AuditEvent.object_type == "voucher", AuditEvent.object_id.in_(voucher_codes))
        )
    if person.household_id is not None:
        about.append(
            and_(
                AuditEvent.object_type == "household",
                AuditEvent.object_id == str(person.household_id),
            )
        )
    events = db.session.execute(select(AuditEvent).where(or_(*about)).order_by(AuditEvent.seq))
    return [
        {
            "seq": e.seq,
            "at": e.at,
            "action": e.action,
            "object_type": e.object_type,
            "object_id": e.object_id,
            "actor_type": e.actor_type,
            "data": e.data,
        }
        for e in events.scalars().all()
    ]


def subject_record(person: Beneficiary) -> dict:
    """Everything held about the person, as plain values (dates, decimals, text)."""
    vouchers = (
        db.session.execute(
            select(Voucher).where(Voucher.beneficiary_id == person.id).order_by(Voucher.id)
        )
        .scalars()
        .all()
    )
    ids, codes = [v.id for v in vouchers], [v.code for v in vouchers]
    ente = get_ente()
    return _aware(
        {
            "generated_at": clock.now().astimezone(clock.ROME),
            "controller": {
                "name": ente.name if ente else None,
                "fiscal_code": ente.fiscal_code if ente else None,
            },
            "person": _person(person),
            "household": _household(person),
            "isee_records": _isee_records(person),
            "vouchers": [_voucher(v) for v in vouchers],
            "ledger_entries": _ledger(ids),
            "siuss_flows": _siuss_flows(ids),
            "batch_rows": _batch_rows(person),
            "audit_events": _audit_events(person, codes),
        }
    )


def _aware(value):
    """Timestamps in UTC with their offset (SQLite hands them back naive), in every part."""
    if isinstance(value, dict):
        return {key: _aware(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_aware(item) for item in value]
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def export_subject(actor: Actor, person: Beneficiary, *, reason: str, fmt: str) -> dict:
    """The person's record for a data-subject request; the export itself is audited with
    its format and reason (never the data)."""
    reason = " ".join((reason or "").split())
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [
            "Indicare il motivo dell'esportazione (ad esempio la richiesta dell'interessato "
            "e il suo protocollo)."
        ]
    elif len(reason) > MAX_REASON:
        errors["reason"] = [f"Il motivo può avere al massimo {MAX_REASON} caratteri."]
    if fmt not in FORMATS:
        errors["format"] = ["Formato non disponibile: scegliere JSON o PDF."]
    if errors:
        raise ValidationFailed("Esportazione non valida", errors=errors)
    record = subject_record(person)
    audit.record(actor, "beneficiary.exported", "beneficiary", person.id, format=fmt, reason=reason)
    return record
