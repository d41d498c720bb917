"""Does a codice fiscale belong to the person it is registered for?

A valid code (checksum, omocodia) can still be someone else's: a colleague's typo, a code
copied from the wrong row. The code carries three letters of the surname, three of the first
name (DM 23 dicembre 1976, art. 2-3: consonants, then vowels, then X; a first name with four
or more consonants takes the first, third and fourth), the birth date and the sex. Comparing
them with what was typed catches most such mistakes.

A mismatch is a warning, never a refusal by itself: a code issued with a maiden name, or with
letters transcribed differently from a foreign document, is still the person's code, and
only the Agenzia delle Entrate can say otherwise. Pages ask the social worker to confirm;
the API registers and returns the warnings.
"""

from datetime import date

from codicefiscale import codicefiscale

from ..errors import ValidationFailed
from .identifiers import FiscalCode, parse_fiscal_code

SEX_WORDS = {"M": "un uomo", "F": "una donna"}
_NAME_SEX_WORDS = {"M": "maschile", "F": "femminile"}
# The birthplace of a person born abroad is "Z" and a three-digit country code.
_FOREIGN_BIRTHPLACE = "Z"


def _name_sexes() -> dict[str, set[str]]:
    """Italian first names with the sex they are given to, from the code's own list."""
    names: dict[str, set[str]] = {}
    for by_sex in codicefiscale._get_data()["names"].values():
        for sex in ("M", "F"):
            for name in by_sex.get(sex, []):
                names.setdefault(name.casefold(), set()).add(sex)
    return names


_NAMES: dict[str, set[str]] | None = None


def name_sex(first_name: str) -> str | None:
    """The sex an Italian first name is given to ("M" or "F"), judged by its first word;
    None when it is given to both or unknown ("Andrea", a foreign name)."""
    global _NAMES
    if _NAMES is None:
        _NAMES = _name_sexes()
    words = (first_name or "").split()
    sexes = _NAMES.get(words[0].casefold()) if words else None
    return next(iter(sexes)) if sexes and len(sexes) == 1 else None


def _letters_message(part: str, in_code: str, name: str, expected: str) -> str:
    return (
        f"Le lettere del {part} nel codice fiscale ({in_code}) non corrispondono a «{name}» "
        f"(dovrebbero essere {expected})."
    )


def mismatches(
    fiscal_code: str | FiscalCode,
    *,
    last_name: str | None = None,
    first_name: str | None = None,
    sex: str | None = None,
    birth_date: date | None = None,
) -> list[str]:
    """What in a valid codice fiscale disagrees with the person's details, in Italian; an
    empty list when everything given agrees. Accents, apostrophes and spaces in the names
    count as the code's rules say (ignored; an accented letter is its plain letter)."""
    cf = fiscal_code if isinstance(fiscal_code, FiscalCode) else parse_fiscal_code(fiscal_code)
    found = []
    if last_name and last_name.strip():
        expected = codicefiscale.encode_lastname(last_name)
        if expected != cf.code[0:3]:
            found.append(_letters_message("cognome", cf.code[0:3], last_name.strip(), expected))
    if first_name and first_name.strip():
        expected = codicefiscale.encode_firstname(first_name)
        if expected != cf.code[3:6]:
            found.append(_letters_message("nome", cf.code[3:6], first_name.strip(), expected))
    if sex in SEX_WORDS and sex != cf.sex:
        found.append(
            f"Il codice fiscale indica {SEX_WORDS[cf.sex]}, ma il sesso indicato è "
            f"{_NAME_SEX_WORDS[sex]}."
        )
    elif sex is None and first_name and cf.code[11] != _FOREIGN_BIRTHPLACE:
        # Italian naming custom: only for people born in Italy.
        usual = name_sex(first_name)
        if usual is not None and usual != cf.sex:
            found.append(
                f"Il codice fiscale indica {SEX_WORDS[cf.sex]}, ma «{first_name.split()[0]}» "
                f"è di solito un nome {_NAME_SEX_WORDS[usual]}."
            )
    if birth_date is not None and birth_date != cf.birth_date:
        found.append(
            f"Il codice fiscale indica la nascita il {cf.birth_date:%d/%m/%Y}, ma la data "
            f"indicata è il {birth_date:%d/%m/%Y}."
        )
    return found


def person_mismatches(person) -> list[str]:
    """The mismatches between a registered beneficiary's codice fiscale and their name."""
    return mismatches(person.fiscal_code, last_name=person.last_name, first_name=person.first_name)


class FiscalCodeMismatch(ValidationFailed):
    """The details disagree with the codice fiscale and nobody confirmed them yet."""

    def __init__(self, found: list[str]):
        super().__init__(
            "Il codice fiscale non corrisponde ai dati della persona: verificarli e "
            "confermare, oppure correggerli.",
            errors={"fiscal_code": list(found)},
        )
        self.mismatches = list(found)


def require_confirmed(found: list[str], confirmed: bool) -> None:
    """Refuse unconfirmed mismatches (FiscalCodeMismatch); nothing to confirm passes."""
    if found and not confirmed:
        raise FiscalCodeMismatch(found)
