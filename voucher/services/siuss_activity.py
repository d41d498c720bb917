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
- PresenzaProvaMezzi 1 (ISEE) when the scheme has an ISEE ceiling or ISEE bands, else 4;
  PresaCarico 1: vouchers are issued by the social service that has taken the person in charge;
- CodiceCittadinanza: citizenship is not recorded, so it is given as Italian (380);
- Ente: Codice and Indirizzo are the ente's Belfiore code (or its first Comune's when the ente
  has none), CFOperatore the ente's codice fiscale.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import exists, func, select

from ..errors import Conflict
from ..extensions import db
from ..models import (
    Beneficiary,
    Comune,
    CopayBand,
    LedgerEntry,
    Scheme,
    Service,
    SiussPrestazione,
    Voucher,
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

    def fingerprint(self) -> str:
        """What the activity reports to INPS, hashed: an unchanged one needs no new flow."""
        body = {"person": self.person, "prestazione": self.prestazione}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def ente_block() -> dict:
    """The Ente element's attributes; the ente must be configured first."""
    ente = get_ente()
    belfiore = ente and (ente.belfiore_code or next((c.belfiore_code for c in ente.comuni), None))
    if not ente or not belfiore:
        raise Conflict(
            "Per il flusso SIUSS servono i dati dell'ente (codice fiscale e codice Belfiore)."
        )
    return {
        "Codice": belfiore,
        "Denominazione": ente.name[:100],
        "Indirizzo": belfiore,
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
            has_bands.label("has_bands"),
            Beneficiary.fiscal_code,
            Beneficiary.first_name,
            Beneficiary.last_name,
            Beneficiary.birth_date,
            Beneficiary.sex,
            Beneficiary.categories,
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
            "CodiceCittadinanza": codes.ITALY,
        },
        "indirizzo": indirizzo,
    }


def _denomination(name: str) -> str:
    """DenominazionePrestazione: 10 to 200 characters."""
    name = " ".join((name or "").split())
    if len(name) < 10:
        name = f"{name} - buono servizio".strip(" -")
    return name[:200]


def _prestazione(rows: list) -> dict:
    """The attributes of one voucher's PrestazioniSociali from its per-service rows."""
    main = max(rows, key=lambda r: (int(r.public_cents), int(r.amount_cents), r.service_code))
    amount = sum(int(r.amount_cents) for r in rows)
    public = sum(int(r.public_cents) for r in rows)
    copay = sum(int(r.copay_cents) for r in rows)
    first = min(r.first_date for r in rows)
    last = max(r.last_date for r in rows)
    months = min(12, months_between(first, last))
    means_tested = main.isee_max_cents is not None or bool(main.has_bands)
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
    if main.isee_max_cents is not None:
        attrs["ImportoSogliaISEE"] = codes.euro_text(main.isee_max_cents)
    if main.unit == "HOUR":
        hours = sum((Decimal(r.quantity or 0) for r in rows), Decimal(0))
        if hours > 0:
            attrs["OreServizioMensile"] = codes.decimal_text(hours / months)
    attrs["PresaCarico"] = "1"
    area = codes.area_utenza(main.categories, main.area)
    if area:
        attrs["AreaUtenza"] = area
    return attrs


def voucher_activities(start: date, end: date) -> list[VoucherActivity]:
    """Every voucher with activity in [start, end], in person order."""
    by_voucher: dict[int, list] = {}
    for row in db.session.execute(activity_query(start, end)):
        by_voucher.setdefault(row.voucher_id, []).append(row)
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
                prestazione=_prestazione(rows),
                amount_cents=sum(int(r.amount_cents) for r in rows),
                public_cents=sum(int(r.public_cents) for r in rows),
                copay_cents=sum(int(r.copay_cents) for r in rows),
                services=[r.service_code for r in rows],
            )
        )
    return activities
