"""The Comune of competence: which member Comune's quota pays for each euro of a voucher.

It is frozen on the voucher at issue (the person's residence when the ente serves it, or
the Comune the social worker names) and carried by every ledger entry: the Comune in force
on the entry's service date. A later change of the person's residence changes nothing.
Only a transfer moves it, from a date: redemptions from that date count for the new Comune,
and entries already recorded from that date move with it, unless one of them is on an
approved statement or in a month already reported to SIUSS (409 period_closed). The FSC
report, the SIUSS flow and the statements attribute by it.
"""

from datetime import date

from sqlalchemy import and_, exists, select, update

from ..errors import PeriodClosed, ValidationFailed
from ..extensions import db
from ..models import (
    Beneficiary,
    Comune,
    LedgerEntry,
    Scheme,
    SiussFlow,
    StatementLine,
    Voucher,
    VoucherCompetence,
)
from ..periods import Month
from . import Actor, audit
from .ente import comune_by_istat
from .in_force import in_force_expression
from .wording import N_


def competence_for_issue(scheme: Scheme, person: Beneficiary, comune_istat: str | None) -> Comune:
    """The Comune of competence of a new voucher: the one named, which must be one of the
    ente's; otherwise the person's residence when the ente serves it. A person living
    elsewhere (where the scheme allows it) needs it named."""
    if comune_istat:
        comune = comune_by_istat(comune_istat.strip())
        if comune is None:
            raise ValidationFailed(
                N_("Il Comune di competenza deve essere uno dei Comuni dell'ente."),
                errors={"comune_istat": [N_("Non è uno dei Comuni serviti dall'ente.")]},
            )
        return comune
    residence = person.comune
    if residence is not None and residence.ente_id is not None:
        return residence
    raise ValidationFailed(
        N_("Il beneficiario non risiede in un Comune dell'ente: indicare il Comune di competenza."),
        errors={
            "comune_istat": [N_("Indicare il Comune dell'ente che ha in carico il beneficiario.")]
        },
    )


def comune_on_expression(voucher_id, day):
    """SQL: the id of the voucher's Comune of competence on a day (as scalar subquery)."""
    return in_force_expression(VoucherCompetence.comune_id, voucher_id, day)


def closed_reason(voucher: Voucher, from_date: date) -> str | None:
    """Why entries of the voucher from the date cannot move, or None."""
    entries = and_(LedgerEntry.voucher_id == voucher.id, LedgerEntry.service_date >= from_date)
    on_statement = db.session.execute(
        select(exists().where(entries, StatementLine.ledger_entry_id == LedgerEntry.id))
    ).scalar_one()
    if on_statement:
        return "alcune prestazioni dal giorno indicato sono in un rendiconto già approvato"
    reported = db.session.execute(
        select(SiussFlow.period)
        .where(SiussFlow.voucher_id == voucher.id, SiussFlow.period >= str(Month.of(from_date)))
        .order_by(SiussFlow.period)
        .limit(1)
    ).scalar_one_or_none()
    if reported is not None:
        return f"il mese {Month.parse(reported).label()} è già stato trasmesso al SIUSS"
    return None


def transfer(
    actor: Actor, voucher: Voucher, comune_istat: str, from_date: date, reason: str | None = None
) -> Voucher:
    """Move the voucher to another of the ente's Comuni from a date: later redemptions
    count for it, and so do the entries already recorded from that date."""
    comune = comune_by_istat((comune_istat or "").strip())
    if comune is None:
        raise ValidationFailed(
            N_("Il Comune di destinazione deve essere uno dei Comuni dell'ente."),
            errors={"comune_istat": ["Non è uno dei Comuni serviti dall'ente."]},
        )
    if not voucher.valid_from <= from_date <= voucher.valid_until:
        raise ValidationFailed(
            N_("La data del trasferimento deve cadere nella validità del buono."),
            errors={"from_date": [N_("Fuori dalla validità del buono.")]},
        )
    latest = max(p.from_date for p in voucher.competences)
    if from_date < latest:
        raise ValidationFailed(
            N_("Il buono ha già un trasferimento successivo a questa data."),
            errors={"from_date": [f"Indicare una data dal {latest:%d/%m/%Y} in poi."]},
        )
    # Lock the voucher: no redemption records an entry while entries move.
    db.session.execute(select(Voucher.id).where(Voucher.id == voucher.id).with_for_update())
    closed = closed_reason(voucher, from_date)
    if closed:
        raise PeriodClosed(f"Trasferimento non possibile dal {from_date:%d/%m/%Y}: {closed}.")
    before = voucher.comune
    voucher.competences.append(
        VoucherCompetence(
            comune_id=comune.id, from_date=from_date, reason=reason, created_by_id=actor.user_id
        )
    )
    voucher.comune = comune
    db.session.flush()
    moved = db.session.execute(
        update(LedgerEntry)
        .where(LedgerEntry.voucher_id == voucher.id, LedgerEntry.service_date >= from_date)
        .values(comune_id=comune.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(
        actor,
        "voucher.transferred",
        "voucher",
        voucher.code,
        from_comune=before.istat_code,
        to_comune=comune.istat_code,
        from_date=from_date.isoformat(),
        entries_moved=moved,
    )
    return voucher
