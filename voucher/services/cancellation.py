"""A provider's own correction: on the day it recorded a service, the provider may cancel it,
with a reason, as a compensating entry (the reversal of voucher.services.redemption, whose
money rules are not repeated here). From the next day the correction is the ente's: a
social worker reverses the entry after hearing both sides, and approved statements stay
as approved (a staff reversal dated in an approved month goes to the next open statement;
the provider's own cancellation is refused there, because the ente has already accounted
for the entry).

The audit trail tells the two apart: besides the reversal's own event, a provider's
cancellation records `voucher.redemption_cancelled` (by "provider", same day), which the
statements and the provider's pages read to label the line "Annullata dal fornitore".
"""

from datetime import UTC, date

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from ..errors import AlreadyReversed, DomainError, NotFound, PeriodClosed, ValidationFailed
from ..extensions import db
from ..models import AuditEvent, LedgerEntry, Provider, StatementLine
from ..periods import Month
from . import Actor, audit, clock, redemption, statements
from .ente import get_ente
from .wording import N_

CANCELLED = "voucher.redemption_cancelled"
# How many reversal ids one query of the audit trail looks up at most.
_BATCH = 500


class CancellationClosed(DomainError):
    """The day the entry was recorded is over: only the ente corrects it now."""

    code = "forbidden"
    status = 403
    title = _l("Annullamento non più possibile")


def recorded_on(entry: LedgerEntry) -> date:
    """The Italian calendar day on which the entry was recorded."""
    created = entry.created_at
    if created.tzinfo is None:  # SQLite returns naive UTC timestamps
        created = created.replace(tzinfo=UTC)
    return created.astimezone(clock.ROME).date()


def ente_contact() -> str:
    """Whom the provider calls for a correction, from the ente's office contacts."""
    ente = get_ente()
    phone = ente.office_phone if ente else None
    email = ente.office_email if ente else None
    if phone and email:
        return N_("chiamate il %(phone)s o scrivete a %(email)s") % {"phone": phone, "email": email}
    if phone:
        return N_("chiamate il %(phone)s") % {"phone": phone}
    if email:
        return N_("scrivete a %(email)s") % {"email": email}
    return N_("chiamate il servizio sociale che ha emesso il buono")


def _reversed(entry: LedgerEntry) -> bool:
    return db.session.execute(
        select(exists().where(LedgerEntry.reverses_id == entry.id))
    ).scalar_one()


def _frozen(entry: LedgerEntry) -> str | None:
    """The label of the approved month that holds the entry, or None."""
    month = Month.of(entry.service_date)
    if statements.find_statement(entry.provider_id, month) is not None:
        return month.label()
    on_line = db.session.execute(
        select(exists().where(StatementLine.ledger_entry_id == entry.id))
    ).scalar_one()
    return month.label() if on_line else None


def cancellation_refusal(entry: LedgerEntry, day: date | None = None) -> DomainError | None:
    """Why the entry's provider may not cancel it on `day` (today), or None. Pages ask it to
    offer the action only where it would succeed; cancel_own_redemption asks it again."""
    day = day or clock.today()
    if entry.kind != "redemption":
        return ValidationFailed(errors={"id": [N_("Si può annullare solo una prestazione.")]})
    if _reversed(entry):
        return AlreadyReversed(N_("Questa prestazione è già stata annullata o stornata."))
    if recorded_on(entry) != day:
        return CancellationClosed(
            N_(
                "Si può annullare una prestazione solo il giorno in cui è stata registrata. "
                "Dal giorno dopo la correzione la fa l'ente: %(message)s."
            )
            % {"message": ente_contact()}
        )
    month = _frozen(entry)
    if month is not None:
        return PeriodClosed(
            N_(
                "Il rendiconto di %(month)s è già approvato: "
                "la correzione la fa l'ente, %(message)s."
            )
            % {"month": month, "message": ente_contact()}
        )
    return None


def cancel_own_redemption(
    actor: Actor, entry_id: int, reason: str, *, day: date | None = None
) -> LedgerEntry:
    """The provider's same-day cancellation of one of its own redemptions: the staff's
    reversal, once the provider's own rules allow it. Another provider's entry is not
    found, as everywhere else."""
    entry = db.session.get(LedgerEntry, entry_id)
    if entry is None or not actor.is_provider or entry.provider_id != actor.provider_id:
        raise NotFound(N_("Riscatto non trovato."))
    # The lock approve_statement takes: no month is approved between the check and the entry.
    db.session.execute(
        select(Provider.id).where(Provider.id == entry.provider_id).with_for_update()
    )
    refusal = cancellation_refusal(entry, day)
    if refusal is not None:
        raise refusal
    reversal = redemption.reverse_redemption(actor, entry.id, reason)
    audit.record(
        actor,
        CANCELLED,
        "ledger_entry",
        reversal.id,
        voucher=entry.voucher.code,
        reverses=entry.id,
        public_cents=entry.public_cents,
        by="provider",
        cancelled_same_day=True,
    )
    return reversal


def cancelled_by_provider(entry_ids) -> set[int]:
    """Which of these reversals were a provider's own same-day cancellation."""
    ids = sorted({str(i) for i in entry_ids if i is not None})
    found: set[int] = set()
    for start in range(0, len(ids), _BATCH):
        rows = db.session.execute(
            select(AuditEvent.object_id).where(
                AuditEvent.action == CANCELLED,
                AuditEvent.object_type == "ledger_entry",
                AuditEvent.object_id.in_(ids[start : start + _BATCH]),
            )
        ).scalars()
        found.update(int(i) for i in rows)
    return found
