"""The ente and the Comuni it serves."""

from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import Comune, Ente
from . import Actor, audit
from .identifiers import is_belfiore_code, is_istat_code, normalise_ente_fiscal_code


def get_ente() -> Ente | None:
    return db.session.execute(select(Ente).limit(1)).scalar_one_or_none()


def update_ente(
    actor: Actor,
    *,
    name: str,
    fiscal_code: str,
    belfiore_code: str | None,
    comuni: list[dict],
    address: str | None = None,
) -> Ente:
    """Set the ente's identity and the Comuni it serves (matched by ISTAT code)."""
    errors: dict[str, list[str]] = {}
    fiscal_code = normalise_ente_fiscal_code(fiscal_code)
    if belfiore_code and not is_belfiore_code(belfiore_code):
        errors["belfiore_code"] = ["Il codice Belfiore ha 4 caratteri (es. D612)."]
    seen: set[str] = set()
    for i, c in enumerate(comuni):
        if not is_istat_code(c.get("istat_code", "")):
            errors[f"comuni.{i}.istat_code"] = ["Il codice ISTAT ha 6 cifre."]
        if not is_belfiore_code(c.get("belfiore_code", "")):
            errors[f"comuni.{i}.belfiore_code"] = ["Il codice Belfiore ha 4 caratteri."]
        if c.get("istat_code") in seen:
            errors[f"comuni.{i}.istat_code"] = ["Comune ripetuto."]
        seen.add(c.get("istat_code"))
    if errors:
        raise ValidationFailed("Dati dell'ente non validi", errors=errors)

    ente = get_ente() or Ente(name=name, fiscal_code=fiscal_code)
    ente.name, ente.fiscal_code = name, fiscal_code
    ente.belfiore_code = belfiore_code.upper() if belfiore_code else None
    ente.address = address
    db.session.add(ente)
    existing = {c.istat_code: c for c in ente.comuni}
    wanted = []
    for c in comuni:
        comune = existing.get(c["istat_code"]) or Comune(istat_code=c["istat_code"])
        comune.belfiore_code = c["belfiore_code"].upper()
        comune.name = c["name"]
        wanted.append(comune)
    removed = [c for code, c in existing.items() if code not in seen]
    in_use = _comuni_in_use(removed)
    if in_use:
        raise ValidationFailed(
            "Comune con beneficiari registrati",
            errors={
                "comuni": [
                    f"Il Comune {c} ha beneficiari registrati e non può essere tolto."
                    for c in in_use
                ]
            },
        )
    ente.comuni = wanted
    db.session.flush()
    audit.record(actor, "ente.updated", "ente", ente.id, comuni=sorted(seen))
    return ente


def _comuni_in_use(comuni: list[Comune]) -> list[str]:
    from ..models import Beneficiary

    if not comuni:
        return []
    ids = [c.id for c in comuni]
    used = (
        db.session.execute(
            select(Beneficiary.comune_id).where(Beneficiary.comune_id.in_(ids)).distinct()
        )
        .scalars()
        .all()
    )
    return [c.name for c in comuni if c.id in set(used)]


def comune_by_istat(istat_code: str) -> Comune | None:
    return db.session.execute(
        select(Comune).where(Comune.istat_code == istat_code)
    ).scalar_one_or_none()
