"""Eligibility: whether a person meets each rule of a scheme (categories, age, ISEE,
compartecipazione bands, residence), with the outcome in plain Italian (marked for the
catalogue: the pages show it in the reader's language, see voucher.services.wording)."""

from dataclasses import dataclass, field
from datetime import date

from ..errors import DomainError, NotEligible
from ..models import Beneficiary, Ente, Scheme
from .ente import get_ente
from .identifiers import age_on
from .isee import isee_needed, isee_record_for
from .schemes import coverage_for
from .wording import N_


@dataclass(frozen=True)
class RuleResult:
    """One check before issuing: its outcome as the issue page shows it and, when it fails,
    the error that refuses the issue."""

    rule: str
    ok: bool
    message: str
    refusal: DomainError | None = field(default=None, compare=False, repr=False)


def _refusal(message: str, rule: str) -> str:
    """The refusal's detail: the outcome and the rule it broke."""
    return N_("%(message)s (regola: %(rule)s).") % {"message": message, "rule": rule}


def _rule(rule: str, ok: bool, message: str) -> RuleResult:
    refusal = None if ok else NotEligible(_refusal(message, rule))
    return RuleResult(rule, ok, message, refusal)


def check_eligibility(
    scheme: Scheme, person: Beneficiary, day: date, ente: Ente | None = None
) -> list[RuleResult]:
    """Every eligibility rule of the scheme, in order, with its outcome in plain Italian."""
    results = []
    if person.pseudonymised_at is not None:
        # Retention replaced the identity with a pseudonym: nothing can be issued to it. A
        # person who comes back is registered again, with their own fiscal code.
        results.append(
            _rule(
                "identity",
                False,
                N_(
                    "Dati anagrafici pseudonimizzati al termine della conservazione: "
                    "registrare di nuovo la persona"
                ),
            )
        )
    cats = set(scheme.eligible_categories or [])
    if cats:
        ok = bool(cats & set(person.categories or []))
        results.append(
            _rule(
                "category",
                ok,
                N_("Categoria ammessa")
                if ok
                else N_("Nessuna delle categorie del beneficiario è ammessa dalla misura"),
            )
        )
    age = age_on(person.birth_date, day)
    if scheme.min_age is not None:
        ok = age >= scheme.min_age
        results.append(
            _rule(
                "min_age",
                ok,
                N_("Età %(age)s anni") % {"age": age}
                if ok
                else N_("Età %(age)s anni, inferiore al minimo di %(min)s")
                % {"age": age, "min": scheme.min_age},
            )
        )
    if scheme.max_age is not None:
        ok = age <= scheme.max_age
        results.append(
            _rule(
                "max_age",
                ok,
                N_("Età %(age)s anni") % {"age": age}
                if ok
                else N_("Età %(age)s anni, superiore al massimo di %(max)s")
                % {"age": age, "max": scheme.max_age},
            )
        )
    record = isee_record_for(person, scheme.isee_type or "ordinario", day)
    kind = scheme.isee_type or "ordinario"
    if record is not None and (isee_needed(scheme) or scheme.copay_bands):
        results.append(_rule("isee_valid", True, N_("ISEE valido (%(kind)s)") % {"kind": kind}))
    elif isee_needed(scheme):
        message = N_("ISEE mancante o scaduto (%(kind)s)") % {"kind": kind}
        results.append(_rule("isee_valid", False, message))
    elif scheme.copay_bands:
        message = N_(
            "ISEE mancante o scaduto (%(kind)s): si applica l'ultima fascia di compartecipazione"
        ) % {"kind": kind}
        results.append(_rule("isee_valid", True, message))
    if scheme.isee_max_cents is not None and record is not None:
        ok = record.value_cents <= scheme.isee_max_cents
        results.append(
            _rule(
                "isee_max",
                ok,
                N_("ISEE entro la soglia") if ok else N_("ISEE superiore alla soglia della misura"),
            )
        )
    if scheme.copay_bands and record is not None:
        ok = coverage_for(scheme, record.value_cents) is not None
        results.append(
            _rule(
                "copay_band",
                ok,
                N_("Fascia ISEE individuata")
                if ok
                else N_("ISEE oltre l'ultima fascia di compartecipazione"),
            )
        )
    if scheme.residence_required is not False:
        ente = ente or get_ente()
        resident = ente is not None and person.comune_id in {c.id for c in ente.comuni}
        results.append(
            _rule(
                "residence",
                resident,
                N_("Residente in un Comune dell'ente")
                if resident
                else N_("Non residente nei Comuni dell'ente: la misura richiede la residenza"),
            )
        )
    return results
