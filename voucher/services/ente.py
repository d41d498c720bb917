"""The ente and the Comuni it serves, checked against the official ISTAT list of Comuni."""

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from sqlalchemy import select

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Beneficiary, Comune, Ente, Voucher
from . import Actor, audit
from .ente_office import KEEP, apply_office_values, office_errors, office_values
from .identifiers import is_belfiore_code, is_istat_code, normalise_ente_fiscal_code

# The code INPS assigns to the ente for SIUSS. It opens every flow's identifier
# (CODE.PS.AAAAMMGG.NNNNNNN), so it holds no space and no character a file name refuses.
SIUSS_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$")
# KEEP (from services.ente_office) is update_ente's siuss_code and office contacts when the
# caller does not give them: they stay as they are.


@dataclass(frozen=True)
class OfficialComune:
    """One row of the ISTAT list shipped in voucher/data/comuni.csv."""

    istat_code: str
    belfiore_code: str
    name: str
    province: str


@cache
def _official_comuni() -> tuple[dict[str, OfficialComune], dict[str, OfficialComune]]:
    text = resources.files("voucher.data").joinpath("comuni.csv").read_text(encoding="utf-8")
    rows = [OfficialComune(**row) for row in csv.DictReader(text.splitlines())]
    return {c.istat_code: c for c in rows}, {c.belfiore_code: c for c in rows}


def official_comune(istat_code: str) -> OfficialComune | None:
    """The Comune with this ISTAT code in the official list, or None."""
    return _official_comuni()[0].get((istat_code or "").strip())


def official_comune_by_belfiore(belfiore_code: str) -> OfficialComune | None:
    """The Comune with this Belfiore (cadastral) code in the official list, or None."""
    return _official_comuni()[1].get((belfiore_code or "").strip().upper())


def find_official_comune(text: str) -> OfficialComune:
    """The Comune a person names: by ISTAT code, or by name with or without the province
    ("Prato (PO)", "prato"). A name two provinces share needs the province."""
    text = (text or "").strip()
    if is_istat_code(text):
        found = official_comune(text)
        if found is None:
            raise ValidationFailed(errors={"comune": [f"Nessun Comune ha il codice ISTAT {text}."]})
        return found
    name, _, province = text.partition("(")
    name, province = name.strip().casefold(), province.strip(" )").upper()
    matches = [
        c
        for c in _official_comuni()[0].values()
        if c.name.casefold() == name and (not province or c.province == province)
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValidationFailed(errors={"comune": [f"Nessun Comune italiano si chiama «{text}»."]})
    provinces = ", ".join(sorted(c.province for c in matches))
    raise ValidationFailed(
        errors={
            "comune": [
                f"Più Comuni si chiamano così ({provinces}): aggiungere la provincia, "
                f"es. «{matches[0].name} ({matches[0].province})»."
            ]
        }
    )


def get_ente() -> Ente | None:
    """The ente's own record, or None before it is configured."""
    return db.session.execute(select(Ente).limit(1)).scalar_one_or_none()


def _comune_errors(i: int, item: dict) -> dict[str, list[str]]:
    """Per-field messages for one Comune of the request, matched against the ISTAT list."""
    prefix = f"comuni.{i}"
    istat = (item.get("istat_code") or "").strip()
    belfiore = (item.get("belfiore_code") or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not is_istat_code(istat):
        errors[f"{prefix}.istat_code"] = ["Il codice ISTAT del Comune ha 6 cifre (es. 048017)."]
    elif official_comune(istat) is None:
        errors[f"{prefix}.istat_code"] = [
            f"Il codice ISTAT {istat} non corrisponde ad alcun Comune dell'elenco ufficiale ISTAT."
        ]
    if not is_belfiore_code(belfiore):
        errors[f"{prefix}.belfiore_code"] = [
            "Il codice Belfiore ha 4 caratteri: una lettera e tre cifre (es. D612)."
        ]
    else:
        official = official_comune(istat)
        if official is not None and official.belfiore_code != belfiore:
            errors[f"{prefix}.belfiore_code"] = [
                f"Il codice Belfiore {belfiore} non corrisponde al Comune con codice ISTAT "
                f"{istat} ({official.name}), il cui codice Belfiore è {official.belfiore_code}."
            ]
        elif official is None and official_comune_by_belfiore(belfiore) is None:
            errors[f"{prefix}.belfiore_code"] = [
                f"Il codice Belfiore {belfiore} non corrisponde ad alcun Comune in vigore."
            ]
    if "name" in item and not (item.get("name") or "").strip():
        errors[f"{prefix}.name"] = ["Il nome del Comune non può essere vuoto."]
    return errors


def _validate(
    fiscal_code: str,
    belfiore_code: str | None,
    comuni: list[dict],
    siuss_code=None,
    office: dict | None = None,
) -> str:
    """Check every field at once, so the caller sees all the problems together."""
    errors: dict[str, list[str]] = office_errors(office or {})
    if isinstance(siuss_code, str) and siuss_code and not SIUSS_CODE.match(siuss_code):
        errors["siuss_code"] = [
            "Il codice ente SIUSS ha da 1 a 16 caratteri: lettere, cifre, punto, trattino "
            "o trattino basso, senza spazi."
        ]
    try:
        fiscal_code = normalise_ente_fiscal_code(fiscal_code)
    except ValidationFailed as error:
        errors.update(error.errors or {})
    if belfiore_code:
        if not is_belfiore_code(belfiore_code):
            errors["belfiore_code"] = [
                "Il codice Belfiore ha 4 caratteri: una lettera e tre cifre (es. D612)."
            ]
        elif official_comune_by_belfiore(belfiore_code) is None:
            errors["belfiore_code"] = [
                f"Il codice Belfiore {belfiore_code.upper()} non corrisponde ad alcun Comune "
                "in vigore."
            ]
    if not comuni:
        errors["comuni"] = ["Indicare almeno un Comune servito dall'ente."]
    seen: set[str] = set()
    for i, item in enumerate(comuni):
        errors.update(_comune_errors(i, item))
        istat = (item.get("istat_code") or "").strip()
        if istat in seen:
            errors.setdefault(f"comuni.{i}.istat_code", []).append("Comune ripetuto.")
        seen.add(istat)
    if errors:
        raise ValidationFailed("Dati dell'ente non validi", errors=errors)
    return fiscal_code


def update_ente(
    actor: Actor,
    *,
    name: str,
    fiscal_code: str,
    belfiore_code: str | None,
    comuni: list[dict],
    address: str | None = None,
    siuss_code=KEEP,
    **office,
) -> Ente:
    """Set the ente's identity and the Comuni it serves (matched by ISTAT code).

    Each Comune must be in the official ISTAT list with its own Belfiore code; a Comune
    without a name takes the official one. `belfiore_code` is the Comune of the ente's
    seat (sede legale: for an Ambito, its capofila), which SIUSS asks for. `siuss_code`
    is the code INPS assigned for SIUSS; left out, it stays as it is (None clears it).
    So do the office contacts (`office_phone`, `office_email`, `office_address`,
    `office_hours`: services.ente_office), which older callers do not know of."""
    if isinstance(siuss_code, str):
        siuss_code = siuss_code.strip() or None
    office = office_values(office)
    fiscal_code = _validate(fiscal_code, belfiore_code, comuni, siuss_code, office)
    wanted_codes = [c["istat_code"].strip() for c in comuni]
    ente = get_ente()
    served = {c.istat_code: c for c in ente.comuni} if ente else {}
    removed = [c for code, c in served.items() if code not in wanted_codes]
    in_use = _comuni_in_use(removed)
    if in_use:
        raise ValidationFailed(
            "Comune con beneficiari o buoni registrati",
            errors={
                "comuni": [
                    f"Il Comune {c} ha beneficiari o buoni registrati e non può essere tolto."
                    for c in in_use
                ]
            },
        )

    ente = ente or Ente(name=name, fiscal_code=fiscal_code)
    before_siuss = ente.siuss_code
    ente.name, ente.fiscal_code = name.strip(), fiscal_code
    ente.belfiore_code = belfiore_code.strip().upper() if belfiore_code else None
    ente.address = address
    siuss_changed = siuss_code is not KEEP and siuss_code != ente.siuss_code
    if siuss_changed:
        ente.siuss_code = siuss_code
    office_changed = apply_office_values(ente, office)
    db.session.add(ente)
    wanted = []
    # A Comune already on record (where a beneficiary lives outside the ente) joins the ente.
    known = {
        c.istat_code: c
        for c in db.session.execute(
            select(Comune).where(Comune.istat_code.in_(wanted_codes))
        ).scalars()
    }
    for item, code in zip(comuni, wanted_codes, strict=True):
        comune = known.get(code) or Comune(istat_code=code)
        comune.belfiore_code = item["belfiore_code"].strip().upper()
        comune.name = (item.get("name") or "").strip() or official_comune(code).name
        wanted.append(comune)
    ente.comuni = wanted
    for comune in removed:
        db.session.delete(comune)  # unused (checked above): nothing names it
    db.session.flush()
    # Whoever reads the ente next sees its Comuni as stored, in the relationship's order.
    db.session.expire(ente, ["comuni"])
    # The SIUSS code names the ente to INPS: a change of it is on the record, with both codes.
    changes = {"siuss_code": [before_siuss, ente.siuss_code]} if siuss_changed else {}
    if office_changed:
        changes["office"] = office_changed
    audit.record(actor, "ente.updated", "ente", ente.id, comuni=sorted(wanted_codes), **changes)
    return ente


def patch_ente(actor: Actor, **changes) -> Ente:
    """Change some of the ente's data (PATCH): what is not given stays as it is."""
    ente = get_ente()
    if ente is None:
        raise NotFound("L'ente non è ancora stato configurato.")
    current = {
        "name": ente.name,
        "fiscal_code": ente.fiscal_code,
        "belfiore_code": ente.belfiore_code,
        "address": ente.address,
        "comuni": [
            {"istat_code": c.istat_code, "belfiore_code": c.belfiore_code, "name": c.name}
            for c in ente.comuni
        ],
    }
    return update_ente(actor, **{**current, **changes})


def _comuni_in_use(comuni: list[Comune]) -> list[str]:
    if not comuni:
        return []
    ids = [c.id for c in comuni]
    used = set(
        db.session.execute(
            select(Beneficiary.comune_id).where(Beneficiary.comune_id.in_(ids)).distinct()
        ).scalars()
    ) | set(
        db.session.execute(
            select(Voucher.comune_id).where(Voucher.comune_id.in_(ids)).distinct()
        ).scalars()
    )
    return [c.name for c in comuni if c.id in used]


def comune_by_istat(istat_code: str) -> Comune | None:
    """The Comune of the ente with this ISTAT code, or None."""
    return db.session.execute(
        select(Comune).where(Comune.istat_code == istat_code, Comune.ente_id.is_not(None))
    ).scalar_one_or_none()


def residence_comune(istat_code: str) -> Comune | None:
    """The Comune with this ISTAT code, anywhere in Italy: the ente's own, one already on
    record, or a new record from ISTAT's list (outside the ente). None if ISTAT has none."""
    code = (istat_code or "").strip()
    comune = db.session.execute(
        select(Comune).where(Comune.istat_code == code)
    ).scalar_one_or_none()
    if comune is not None:
        return comune
    official = official_comune(code)
    if official is None:
        return None
    comune = Comune(istat_code=code, belfiore_code=official.belfiore_code, name=official.name)
    db.session.add(comune)
    db.session.flush()
    return comune
