"""Eligibility: whether a person meets each rule of a scheme (categories, age, ISEE,
compartecipazione bands, residence), with the outcome in plain Italian."""

from dataclasses import dataclass, field
from datetime import date

from ..errors import DomainError, NotEligible
from ..models import Beneficiary, Ente, Scheme
from .ente import get_ente
from .identifiers import age_on
from .schemes import coverage_for


@dataclass(frozen=True)
class RuleResult:
    """One check before issuing: its outcome as the issue page shows it and, when it fails,
    the error that refuses the issue."""

    rule: str
    ok: bool
    message: str
    refusal: DomainError | None = field(default=None, compare=False, repr=False)


def _rule(rule: str, ok: bool, message: str) -> RuleResult:
    refusal = None if ok else NotEligible(f"{message} (regola: {rule}).")
    return RuleResult(rule, ok, message, refusal)


def check_eligibility(
    scheme: Scheme, person: Beneficiary, day: date, ente: Ente | None = None
) -> list[RuleResult]:
    """Every eligibility rule of the scheme, in order, with its outcome in plain Italian."""
    results = []
    cats = set(scheme.eligible_categories or [])
    if cats:
        ok = bool(cats & set(person.categories or []))
        results.append(
            _rule(
                "category",
                ok,
                "Categoria ammessa"
                if ok
                else "Nessuna delle categorie del beneficiario è ammessa dalla misura",
            )
        )
    age = age_on(person.birth_date, day)
    if scheme.min_age is not None:
        ok = age >= scheme.min_age
        results.append(
            _rule(
                "min_age",
                ok,
                f"Età {age} anni" + ("" if ok else f", inferiore al minimo di {scheme.min_age}"),
            )
        )
    if scheme.max_age is not None:
        ok = age <= scheme.max_age
        results.append(
            _rule(
                "max_age",
                ok,
                f"Età {age} anni" + ("" if ok else f", superiore al massimo di {scheme.max_age}"),
            )
        )
    needs_isee = scheme.isee_max_cents is not None or bool(scheme.copay_bands)
    isee_valid = person.isee_cents is not None and (
        person.isee_valid_until is None or person.isee_valid_until >= day
    )
    if needs_isee:
        message = "ISEE valido" if isee_valid else "ISEE mancante o scaduto"
        results.append(_rule("isee_valid", isee_valid, message))
    if scheme.isee_max_cents is not None and isee_valid:
        ok = person.isee_cents <= scheme.isee_max_cents
        results.append(
            _rule(
                "isee_max",
                ok,
                "ISEE entro la soglia" if ok else "ISEE superiore alla soglia della misura",
            )
        )
    if scheme.copay_bands and isee_valid:
        ok = coverage_for(scheme, person.isee_cents) is not None
        results.append(
            _rule(
                "copay_band",
                ok,
                "Fascia ISEE individuata"
                if ok
                else "ISEE oltre l'ultima fascia di compartecipazione",
            )
        )
    ente = ente or get_ente()
    resident = ente is not None and person.comune_id in {c.id for c in ente.comuni}
    results.append(
        _rule(
            "residence",
            resident,
            "Residente in un Comune dell'ente"
            if resident
            else "Non residente nei Comuni dell'ente",
        )
    )
    return results
