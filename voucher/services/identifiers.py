"""Italian identifiers: codice fiscale, partita IVA, CUP, ISTAT and Belfiore codes."""

import re
from dataclasses import dataclass
from datetime import date

from codicefiscale import codicefiscale
from stdnum import iban as stdnum_iban
from stdnum.it import codicefiscale as stdnum_cf
from stdnum.it import iva

from ..errors import ValidationFailed
from .wording import N_

_CUP = re.compile(r"^[A-Z]\d{2}[A-Z]\d{2}\d{6}[A-Z0-9]{3}$")
_CUP_LOOSE = re.compile(r"^[A-Z0-9]{15}$")
_ISTAT = re.compile(r"^\d{6}$")
_BELFIORE = re.compile(r"^[A-Z]\d{3}$")
_ENTE_CF = re.compile(r"^\d{11}$")


@dataclass(frozen=True)
class FiscalCode:
    """A valid personal codice fiscale, normalised, with the birth date and sex it encodes."""

    code: str
    birth_date: date
    sex: str


def parse_fiscal_code(text: str, field: str = "fiscal_code") -> FiscalCode:
    """Validate a personal codice fiscale (checksum, omocodia) and read birth date and sex."""
    code = (text or "").strip().upper().replace(" ", "")
    try:
        decoded = codicefiscale.decode(code)
    except ValueError:
        raise ValidationFailed(
            "Codice fiscale non valido", errors={field: ["Codice fiscale non valido."]}
        ) from None
    return FiscalCode(code=code, birth_date=decoded["birthdate"].date(), sex=decoded["gender"])


def normalise_vat(text: str, field: str = "vat_number") -> str:
    """Validate a partita IVA (11 digits with the Luhn-style check digit)."""
    number = iva.compact(text or "")
    if not iva.is_valid(number) or len(number) != 11:
        raise ValidationFailed(
            N_("Partita IVA non valida"), errors={field: [N_("Partita IVA non valida.")]}
        )
    return number


def normalise_ente_fiscal_code(text: str, field: str = "fiscal_code") -> str:
    """An ente's codice fiscale: 11 digits with the same check digit as a partita IVA."""
    number = (text or "").strip()
    if not _ENTE_CF.match(number) or not iva.is_valid(number):
        raise ValidationFailed(
            N_("Codice fiscale dell'ente non valido"),
            errors={field: [N_("Il codice fiscale dell'ente ha 11 cifre con cifra di controllo.")]},
        )
    return number


def normalise_provider_fiscal_code(text: str, field: str = "fiscal_code") -> str:
    """A provider's codice fiscale: 11 digits for a company or cooperative (with the check
    digit of a partita IVA), or 16 characters for a sole trader."""
    code = stdnum_cf.compact(text or "") if text else ""
    valid = iva.is_valid(code) if len(code) == 11 else stdnum_cf.is_valid(code)
    if not valid:
        raise ValidationFailed(
            "Codice fiscale non valido",
            errors={
                field: [
                    N_(
                        "Codice fiscale non valido: 11 cifre per una società, "
                        "16 caratteri per una persona."
                    )
                ]
            },
        )
    return code


def normalise_iban(text: str, field: str = "iban") -> str:
    """An Italian IBAN (27 characters starting IT), its check digits verified."""
    number = stdnum_iban.compact(text or "")
    if not number.startswith("IT") or not stdnum_iban.is_valid(number):
        raise ValidationFailed(
            N_("IBAN non valido"),
            errors={
                field: [N_("IBAN non valido: un conto italiano, 27 caratteri che iniziano con IT.")]
            },
        )
    return number


def normalise_cup(text: str, field: str = "cup") -> str:
    """A CUP (Codice Unico di Progetto) has 15 characters."""
    cup = (text or "").strip().upper()
    if not _CUP_LOOSE.match(cup):
        raise ValidationFailed(
            N_("CUP non valido"), errors={field: [N_("Il CUP ha 15 caratteri.")]}
        )
    return cup


def is_istat_code(text: str) -> bool:
    """Whether the text is shaped like an ISTAT Comune code (six digits)."""
    return bool(_ISTAT.match(text or ""))


def is_belfiore_code(text: str) -> bool:
    """Whether the text is shaped like a Belfiore code (a letter, three digits)."""
    return bool(_BELFIORE.match((text or "").upper()))


def age_on(birth_date: date, day: date) -> int:
    """Completed years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
