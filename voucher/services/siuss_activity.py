"""What each voucher delivered in a period, as the SIUSS PS flow describes it (INPS,
PS_PSA_SINA201812.xsd): the query and figures behind the stored monthly flows
(voucher.services.siuss) and the SIUSS report (voucher.reports.siuss).

How each prestazione is filled:
- activity: the voucher's ledger entries with service_date in the period, net of reversals;
  a voucher whose entries cancel out (everything reversed) delivered nothing and is left out;
- ImportoQuotaEnte = public shares, ImportoQuotaUtente = co-payments, ImportoPrestazione = cost;
- CodicePrestazione: the SIUSS code of the voucher's service (Service.siuss_code, editable by
  the ente; Z9.99 «Altro» when unset). A voucher that paid for several services is coded with
  the one that accounts for most of its public share in the period;
- ProtocolloDomanda: the voucher code; DataInizio/DataFinePrestazione: first and last service
  date; PeriodoErogazione: the calendar months they span, with ImportoMensile and (for hourly
  schemes) OreServizioMensile averaged over them;
- PresenzaProvaMezzi 1 (ISEE) when the scheme reads an ISEE (a ceiling, bands, or an ISEE
  required), else 4;
- NumeroProtocolloDSU, AnnoProtocolloDSU, DataDSU: the DSU of the ISEE record that set the
  voucher's coverage (VoucherCoverage.isee_record) in force on the last service date of the
  period; left out when no record with a DSU set it, or the prestazione is not means-tested;
- PresaCarico: 1 when the scheme follows a presa in carico by the social service
  (Scheme.presa_in_carico), else 2. The XSD makes the SINA block optional (minOccurs 0) even
  then: SINA is the multidimensional assessment of non self-sufficiency (mobility, daily
  living, the assessment tool), which is not recorded here, so no SINA block is sent;
- CodiceCittadinanza: the ISO 3166-1 numeric code of the person's citizenship
  (voucher/data/cittadinanze.csv; Italy 380, as CodiceNazione);
- Indirizzo: the person's residence, any Italian Comune: its ISTAT code and region;
- Ente: Codice is the ente's SIUSS code (Ente.siuss_code, assigned by INPS: no flow without
  it), Indirizzo the Belfiore code of the Comune of its seat, as the XSD asks (Ente.belfiore_code;
  the only Comune, for an ente serving one), CFOperatore the ente's codice fiscale.

No attribute of the PS flow names the Comune whose quota pays: money is attributed to a
Comune by LedgerEntry.comune_id (the FSC report, statements). Residence is read only for the
person's own address, never to attribute an amount.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, select

from ..errors import Conflict, SiussCodeMissing
from ..extensions import db
from ..models import (
    Beneficiary,
    Comune,
    CopayBand,
    Ente,
    IseeRecord,
    LedgerEntry,
    Scheme,
    Service,
    SiussPrestazione,
    Voucher,
    VoucherCoverage,
)
from ..periods import months_between
from . import siuss_codes as codes
from .ente import get_ente


@dataclass
class VoucherActivity:
    """One voucher's prestazione in a period, with the person it belongs to."""

    voucher_id: int
    voucher_code: str
    beneficiary_id: int
    person: dict
    prestazione: dict
    amount_cents: int = 0
    public_cents: int = 0
    copay_cents: int = 0
    services: list = field(default_factory=list)
    # The person was pseudonymised by retention: their flow can no longer be (re)built.
    pseudonymised: bool = False

    def fingerprint(self) -> str:
        """What the activity reports to INPS, hashed: an unchanged one needs no new flow."""
        body = {"person": self.person, "prestazione": self.prestazione}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def seat_belfiore(ente: Ente) -> str | None:
    """The Belfiore code of the Comune of the ente's seat: its own, or its only Comune's."""
    if ente.belfiore_code:
        return ente.belfiore_code
    return ente.comuni[0].belfiore_code if len(ente.comuni) == 1 else None


def missing_setup() -> list[str]:
    """What the ente still lacks for SIUSS, in order: "ente" (not configured), "siuss_code",
    "seat". Empty when flows can be generated."""
    ente = get_ente()
    if ente is None:
        return ["ente"]
    missing = [] if ente.siuss_code else ["siuss_code"]
    return missing + ([] if seat_belfiore(ente) else ["seat"])


def ente_block() -> dict:
    """The Ente element's attributes; refused until the ente has its SIUSS code and seat."""
    ente = get_ente()
    if ente is None:
        raise Conflict("Per il flusso SIUSS occorre prima configurare l'ente.")
    if not ente.siuss_code:
        raise SiussCodeMissing(
            "Manca il codice ente SIUSS assegnato dall'INPS: finché l'amministratore non lo "
            "inserisce nei dati dell'ente, nessun flusso SIUSS viene generato."
        )
    seat = seat_belfiore(ente)
    if seat is None:
        raise Conflict(
            "Per il flusso SIUSS serve il Comune sede legale dell'ente: l'amministratore ne "
            "inserisce il codice Belfiore nei dati dell'ente."
        )
    return {
        "Codice": ente.siuss_code,
        "Denominazione": ente.name[:100],
        "Indirizzo": seat,
        "CFOperatore": ente.fiscal_code,
    }


def activity_query(start: date, end: date):
    """Per voucher and service: net cost, shares, hours and first/last date in [start, end]."""
    act = (
        select(
            LedgerEntry.voucher_id,
            LedgerEntry.service_code,
            func.sum(LedgerEntry.amount_cents).label("amount_cents"),
            func.sum(LedgerEntry.public_cents).label("public_cents"),
            func.sum(LedgerEntry.copay_cents).label("copay_cents"),
            func.sum(LedgerEntry.quantity).label("quantity"),
            func.min(LedgerEntry.service_date).label("first_date"),
            func.max(LedgerEntry.service_date).label("last_date"),
        )
        .where(LedgerEntry.service_date >= start, LedgerEntry.service_date <= end)
        .group_by(LedgerEntry.voucher_id, LedgerEntry.service_code)
        .subquery("activity")
    )
    has_bands = exists().where(CopayBand.scheme_id == Scheme.id)
    return (
        select(
            act,
            Voucher.code.label("voucher_code"),
            Voucher.beneficiary_id,
            Scheme.area,
            Scheme.unit,
            Scheme.isee_max_cents,
            Scheme.isee_required,
            Scheme.presa_in_carico,
            has_bands.label("has_bands"),
            Beneficiary.fiscal_code,
            Beneficiary.first_name,
            Beneficiary.last_name,
            Beneficiary.birth_date,
            Beneficiary.sex,
            Beneficiary.categories,
            Beneficiary.citizenship,
            Beneficiary.pseudonymised_at,
            Comune.istat_code,
            Service.name_it.label("service_name"),
            Service.siuss_code,
            SiussPrestazione.name_it.label("siuss_name"),
        )
        .join(Voucher, Voucher.id == act.c.voucher_id)
        .join(Scheme, Scheme.id == Voucher.scheme_id)
        .join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
        .join(Comune, Comune.id == Beneficiary.comune_id)
        .join(Service, Service.code == act.c.service_code)
        .outerjoin(SiussPrestazione, SiussPrestazione.code == Service.siuss_code)
        .order_by(Voucher.beneficiary_id, act.c.voucher_id, act.c.service_code)
    )


def _person(row) -> dict:
    indirizzo = {"CodiceComune": row.istat_code, "CodiceNazione": codes.ITALY}
    region = codes.region_of(row.istat_code)
    if region:
        indirizzo = {"CodiceRegione": region, **indirizzo}
    return {
        "CodiceFiscale": row.fiscal_code,
        "anagrafica": {
            "Cognome": row.last_name.strip().upper()[:36],
            "Nome": row.first_name.strip().upper()[:36],
            "AnnoNascita": f"{row.birth_date.year:04d}",
            "LuogoNascita": codes.birthplace_code(row.fiscal_code),
            "Genere": codes.genere(row.sex),
            "CodiceCittadinanza": codes.citizenship_code(row.citizenship),
        },
        "indirizzo": indirizzo,
    }


def _denomination(name: str) -> str:
    """DenominazionePrestazione: 10 to 200 characters."""
    name = " ".join((name or "").split())
    if len(name) < 10:
        name = f"{name} - buono servizio".strip(" -")
    return name[:200]


def _coverage_dsu(start: date, end: date) -> dict[int, list]:
    """Per voucher with entries in [start, end]: its coverage periods (from_date, id) with
    the DSU of the ISEE record that set each (protocol and date, None without one)."""
    active = select(LedgerEntry.voucher_id).where(
        LedgerEntry.service_date >= start, LedgerEntry.service_date <= end
    )
    rows = db.session.execute(
        select(
            VoucherCoverage.voucher_id,
            VoucherCoverage.from_date,
            VoucherCoverage.id,
            IseeRecord.dsu_protocol,
            IseeRecord.dsu_date,
        )
        .outerjoin(IseeRecord, IseeRecord.id == VoucherCoverage.isee_record_id)
        .where(VoucherCoverage.voucher_id.in_(active))
        .order_by(VoucherCoverage.voucher_id, VoucherCoverage.from_date, VoucherCoverage.id)
    )
    periods: dict[int, list] = {}
    for row in rows:
        periods.setdefault(row.voucher_id, []).append(row)
    return periods


def _dsu_on(periods: list, day: date) -> dict:
    """The DSU attributes of the coverage period in force on `day` (the first period before
    the voucher starts), or {} when no record with a DSU set it."""
    if not periods:
        return {}
    current = periods[0]
    for period in periods:
        if period.from_date <= day:
            current = period
    return codes.dsu_attributes(current.dsu_protocol, current.dsu_date)


def _prestazione(rows: list, coverage: list) -> dict:
    """The attributes of one voucher's PrestazioniSociali from its per-service rows and its
    coverage periods."""
    main = max(rows, key=lambda r: (int(r.public_cents), int(r.amount_cents), r.service_code))
    amount = sum(int(r.amount_cents) for r in rows)
    public = sum(int(r.public_cents) for r in rows)
    copay = sum(int(r.copay_cents) for r in rows)
    first = min(r.first_date for r in rows)
    last = max(r.last_date for r in rows)
    months = min(12, months_between(first, last))
    means_tested = (
        main.isee_max_cents is not None or bool(main.has_bands) or bool(main.isee_required)
    )
    attrs = {
        "TipoOperazione": "I",
        "PresenzaProvaMezzi": "1" if means_tested else "4",
        "CaratterePrestazione": "1" if first != last else "2",
        "CodicePrestazione": main.siuss_code or codes.OTHER_PRESTAZIONE,
        "DenominazionePrestazione": _denomination(main.service_name),
        "ProtocolloDomanda": main.voucher_code,
        "DataInizioPrestazione": first.isoformat(),
        "DataFinePrestazione": last.isoformat(),
        "ImportoPrestazione": codes.euro_text(amount),
        "PeriodoErogazione": str(months),
        "ImportoMensile": codes.euro_text(codes.per_month(public, months)),
        "ImportoQuotaEnte": codes.euro_text(public),
        "ImportoQuotaUtente": codes.euro_text(copay),
    }
    if means_tested:
        attrs.update(_dsu_on(coverage, last))
    if main.isee_max_cents is not None:
        attrs["ImportoSogliaISEE"] = codes.euro_text(main.isee_max_cents)
    if main.unit == "HOUR":
        hours = sum((Decimal(r.quantity or 0) for r in rows), Decimal(0))
        if hours > 0:
            attrs["OreServizioMensile"] = codes.decimal_text(hours / months)
    attrs["PresaCarico"] = codes.PRESA_IN_CARICO if main.presa_in_carico else codes.NO_PRESA
    area = codes.area_utenza(main.categories, main.area)
    if area:
        attrs["AreaUtenza"] = area
    return attrs


def voucher_activities(start: date, end: date) -> list[VoucherActivity]:
    """Every voucher with activity in [start, end], in person order."""
    by_voucher: dict[int, list] = {}
    for row in db.session.execute(activity_query(start, end)):
        by_voucher.setdefault(row.voucher_id, []).append(row)
    coverage = _coverage_dsu(start, end) if by_voucher else {}
    activities = []
    for voucher_id, rows in by_voucher.items():
        if all(int(r.amount_cents) == 0 and int(r.public_cents) == 0 for r in rows):
            continue  # everything reversed: nothing was delivered
        first = rows[0]
        activities.append(
            VoucherActivity(
                voucher_id=voucher_id,
                voucher_code=first.voucher_code,
                beneficiary_id=first.beneficiary_id,
                person=_person(first),
                prestazione=_prestazione(rows, coverage.get(voucher_id, [])),
                amount_cents=sum(int(r.amount_cents) for r in rows),
                public_cents=sum(int(r.public_cents) for r in rows),
                copay_cents=sum(int(r.copay_cents) for r in rows),
                services=[r.service_code for r in rows],
                pseudonymised=first.pseudonymised_at is not None,
            )
        )
    return activities
