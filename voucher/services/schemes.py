"""Schemes (misure): creation, editing while in draft, activation and closing, and budgets."""

from datetime import date

from sqlalchemy import case, func, select

from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..models import (
    CATEGORIES,
    ISEE_TYPES,
    UNITS,
    CopayBand,
    Fund,
    LedgerEntry,
    Scheme,
    Service,
    Voucher,
)
from ..models.status import SchemeStatus, VoucherStatus, allows
from ..periods import MAX_YEAR, MIN_YEAR
from . import Actor, audit, scheme_providers
from .identifiers import normalise_cup

EDITABLE_FIELDS = (
    "name",
    "description",
    "fund_code",
    "year",
    "cup",
    "unit",
    "unit_price_cents",
    "face_value_cents",
    "valid_from",
    "valid_until",
    "budget_cents",
    "eligible_categories",
    "min_age",
    "max_age",
    "isee_max_cents",
    "max_active_per_beneficiary",
    "max_redemption_cents",
    "residence_required",
    "isee_type",
    "isee_required",
    "presa_in_carico",
    "legal_model",
)
# The rules a scheme may leave out, with the value they take then.
RULE_DEFAULTS = {
    "residence_required": True,
    "isee_type": "ordinario",
    "isee_required": False,
    "presa_in_carico": False,
    "legal_model": "purchase",
}


# What a scheme declares to SIUSS rather than promises its beneficiaries: editable on an
# open scheme, so that its months can be reported right.
REPORTING_FIELDS = {"presa_in_carico"}


def _with_defaults(data: dict) -> dict:
    return {**data, **{k: v for k, v in RULE_DEFAULTS.items() if data.get(k) is None}}


def _validate(data: dict) -> tuple[Fund, list[Service], list[dict]]:
    errors: dict[str, list[str]] = {}

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    fund = db.session.get(Fund, data.get("fund_code") or "")
    if fund is None:
        err("fund_code", "Fondo sconosciuto.")
    if data.get("isee_type") not in (None, *ISEE_TYPES):
        err("isee_type", "Tipo di ISEE: ordinario, sociosanitario, minorenni o corrente.")
    if data.get("legal_model") not in (None, "purchase", "contribution"):
        err("legal_model", "Modello: acquisto del servizio (purchase) o contributo (contribution).")
    if data.get("cup"):
        try:
            data["cup"] = normalise_cup(data["cup"])
        except ValidationFailed as e:
            errors.update(e.errors)
    elif fund is not None and fund.cup_required:
        err("cup", f"Il fondo {fund.code} richiede il CUP.")

    codes = list(dict.fromkeys(data.get("service_codes") or []))
    services = db.session.execute(select(Service).where(Service.code.in_(codes))).scalars().all()
    if not codes:
        err("service_codes", "Indicare almeno un servizio.")
    unknown = set(codes) - {s.code for s in services}
    if unknown:
        err("service_codes", f"Servizi sconosciuti: {', '.join(sorted(unknown))}.")
    if len({s.area for s in services}) > 1:
        err("service_codes", "Tutti i servizi di una misura devono appartenere alla stessa area.")
    # Traineeships (P1) and social emergency response (P6) are the ente's own services.
    not_voucherable = sorted(s.code for s in services if not s.voucherable)
    if not_voucherable:
        err(
            "service_codes",
            f"Servizi che non si acquistano con un buono: {', '.join(not_voucherable)}. "
            "Sono servizi resi direttamente dall'ente.",
        )

    unit = data.get("unit")
    if unit not in UNITS:
        err("unit", f"Unità non valida: una tra {', '.join(UNITS)}.")
    if unit == "EUR":
        data["unit_price_cents"] = None
    elif not data.get("unit_price_cents") or data["unit_price_cents"] <= 0:
        err("unit_price_cents", "Il prezzo unitario è obbligatorio per le misure a unità.")

    for field in ("face_value_cents",):
        if (data.get(field) or 0) <= 0:
            err(field, "Deve essere maggiore di zero.")
    for field in ("budget_cents",):
        if data.get(field) is None or data[field] < 0:
            err(field, "Non può essere negativo.")
    for field in ("isee_max_cents", "max_redemption_cents"):
        if data.get(field) is not None and data[field] <= 0:
            err(field, "Deve essere maggiore di zero.")
    if (
        data.get("max_active_per_beneficiary") is not None
        and data["max_active_per_beneficiary"] < 1
    ):
        err("max_active_per_beneficiary", "Almeno 1.")
    vf, vu = data.get("valid_from"), data.get("valid_until")
    # Within the years a scheme may belong to: a voucher's letter, QR code and reports count
    # days past its end, which a date like 9999-12-31 has not.
    for field, day in (("valid_from", vf), ("valid_until", vu)):
        if isinstance(day, date) and not MIN_YEAR <= day.year <= MAX_YEAR:
            err(field, f"La data deve cadere tra il {MIN_YEAR} e il {MAX_YEAR}.")
    if isinstance(vf, date) and isinstance(vu, date) and vu < vf:
        err("valid_until", "La fine della validità precede l'inizio.")
    for field in ("min_age", "max_age"):
        if data.get(field) is not None and not 0 <= data[field] <= 130:
            err(field, "Età tra 0 e 130.")
    if (
        data.get("min_age") is not None
        and data.get("max_age") is not None
        and data["min_age"] > data["max_age"]
    ):
        err("max_age", "L'età massima è minore della minima.")
    bad = set(data.get("eligible_categories") or []) - set(CATEGORIES)
    if bad:
        err("eligible_categories", f"Categorie sconosciute: {', '.join(sorted(bad))}.")
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        err("year", "Anno non valido.")

    bands = sorted(data.get("copay_bands") or [], key=lambda b: b["isee_max_cents"])
    ceilings = [b["isee_max_cents"] for b in bands]
    if len(set(ceilings)) != len(ceilings):
        err("copay_bands", "Due fasce hanno la stessa soglia ISEE.")
    for b in bands:
        if not 0 <= b["coverage_percent"] <= 100:
            err("copay_bands", "La copertura è una percentuale tra 0 e 100.")
        if b["isee_max_cents"] < 0:
            err("copay_bands", "La soglia ISEE non può essere negativa.")
    if errors:
        raise ValidationFailed("Dati della misura non validi", errors=errors)
    return fund, services, bands


def create_scheme(actor: Actor, data: dict, *, status: str = "draft") -> Scheme:
    """Create a scheme from validated plain values (see API.md for the fields), limited to
    the providers in `provider_ids` when any is given."""
    data = _with_defaults(data)
    _fund, services, bands = _validate(data)
    if status not in ("draft", "active"):
        raise ValidationFailed(errors={"status": ["Stato iniziale: draft o active."]})
    scheme = Scheme(
        **{f: data.get(f) for f in EDITABLE_FIELDS},
        area=services[0].area,
        status=status,
    )
    scheme.eligible_categories = list(data.get("eligible_categories") or [])
    scheme.services = list(services)
    scheme.copay_bands = [CopayBand(**b) for b in bands]
    db.session.add(scheme)
    db.session.flush()
    audit.record(
        actor,
        "scheme.created",
        "scheme",
        scheme.id,
        status=status,
        fund=scheme.fund_code,
        budget_cents=scheme.budget_cents,
    )
    if data.get("provider_ids"):
        scheme_providers.set_scheme_providers(actor, scheme, data["provider_ids"])
    return scheme


def update_scheme(actor: Actor, scheme: Scheme, data: dict) -> Scheme:
    """Edit a scheme; only drafts change, so that issued vouchers keep their terms. Only
    what the scheme reports to SIUSS (presa_in_carico), which is no term of its vouchers,
    may change at any time."""
    if not allows("scheme", scheme.status, "edit"):
        if data and set(data) <= REPORTING_FIELDS:
            return _update_reporting(actor, scheme, data)
        raise Conflict("Solo una misura in bozza può essere modificata.")
    merged = {f: getattr(scheme, f) for f in EDITABLE_FIELDS}
    merged["service_codes"] = scheme.service_codes
    merged["copay_bands"] = [
        {"isee_max_cents": b.isee_max_cents, "coverage_percent": b.coverage_percent}
        for b in scheme.copay_bands
    ]
    merged.update(data)
    merged = _with_defaults(merged)
    _fund, services, bands = _validate(merged)
    for f in EDITABLE_FIELDS:
        setattr(scheme, f, merged.get(f))
    scheme.eligible_categories = list(merged.get("eligible_categories") or [])
    scheme.area = services[0].area
    scheme.services = list(services)
    scheme.copay_bands = [CopayBand(**b) for b in bands]
    db.session.flush()
    audit.record(actor, "scheme.updated", "scheme", scheme.id, fields=sorted(data))
    return scheme


def _update_reporting(actor: Actor, scheme: Scheme, data: dict) -> Scheme:
    changed = sorted(k for k, v in data.items() if getattr(scheme, k) != bool(v))
    for field in changed:
        setattr(scheme, field, bool(data[field]))
    db.session.flush()
    if changed:
        audit.record(actor, "scheme.updated", "scheme", scheme.id, fields=changed)
    return scheme


def activate_scheme(actor: Actor, scheme: Scheme) -> Scheme:
    """Open a draft scheme: from now on it issues vouchers, and its terms no longer change."""
    if not allows("scheme", scheme.status, "activate"):
        raise Conflict("Solo una misura in bozza può essere attivata.")
    scheme.status = SchemeStatus.ACTIVE
    db.session.flush()
    audit.record(actor, "scheme.activated", "scheme", scheme.id)
    return scheme


def close_scheme(actor: Actor, scheme: Scheme) -> Scheme:
    """No new vouchers; vouchers already issued stay spendable until they expire."""
    if not allows("scheme", scheme.status, "close"):
        raise Conflict("La misura è già chiusa.")
    scheme.status = SchemeStatus.CLOSED
    db.session.flush()
    audit.record(actor, "scheme.closed", "scheme", scheme.id)
    return scheme


def get_scheme(scheme_id: int) -> Scheme:
    """The scheme, or NotFound."""
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None:
        raise NotFound("Misura non trovata.")
    return scheme


def list_schemes(status: str | None = None) -> list[Scheme]:
    """Schemes, newest year first then by name; only those in `status` when given."""
    query = select(Scheme).order_by(Scheme.year.desc(), Scheme.name)
    if status:
        query = query.where(Scheme.status == status)
    return list(db.session.execute(query).scalars())


def committed_expression():
    """Per voucher, the money it holds on the budget: all of it while it may still be spent;
    only what was spent once it is revoked or expired (the rest goes back to the budget)."""
    return case(
        (
            Voucher.status.in_((VoucherStatus.REVOKED, VoucherStatus.EXPIRED)),
            Voucher.value_cents - Voucher.balance_cents,
        ),
        else_=Voucher.value_cents,
    )


def committed_cents(scheme_id: int) -> int:
    """What the scheme's vouchers hold on its budget (see committed_expression)."""
    return db.session.execute(
        select(func.coalesce(func.sum(committed_expression()), 0)).where(
            Voucher.scheme_id == scheme_id
        )
    ).scalar_one()


def redeemed_cents(scheme_id: int) -> int:
    """Public shares of the scheme's ledger, net of reversals."""
    return db.session.execute(
        select(func.coalesce(func.sum(LedgerEntry.public_cents), 0))
        .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
        .where(Voucher.scheme_id == scheme_id)
    ).scalar_one()


def coverage_for(scheme: Scheme, isee_cents: int | None) -> int | None:
    """Coverage percent from the ISEE bands: the first band whose ceiling is ≥ the ISEE.
    100 without bands; None when bands exist and no band applies (or no ISEE is known)."""
    if not scheme.copay_bands:
        return 100
    if isee_cents is None:
        return None
    for band in scheme.copay_bands:
        if isee_cents <= band.isee_max_cents:
            return band.coverage_percent
    return None
