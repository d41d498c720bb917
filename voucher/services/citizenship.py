"""Citizenship: the countries of ISO 3166-1 with their SIUSS code and their names, from
voucher/data/cittadinanze.csv.

SIUSS codes nations with three digits and names Italy 380 (PS_PSA_SINA201812.xsd, on
Indirizzo/CodiceNazione): the numeric code of ISO 3166-1, which CodiceCittadinanza shares.
"""

import csv
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

ITALY = "IT"


@dataclass(frozen=True)
class Country:
    """One row of cittadinanze.csv."""

    iso_alpha2: str
    siuss_code: str
    name_it: str
    name_en: str


@cache
def _by_code() -> dict[str, Country]:
    text = resources.files("voucher.data").joinpath("cittadinanze.csv").read_text(encoding="utf-8")
    return {row["iso_alpha2"]: Country(**row) for row in csv.DictReader(text.splitlines())}


def normalise(code: str | None) -> str:
    """A citizenship as stored: the alpha-2 code in capitals, without spaces."""
    return (code or "").strip().upper()


def country(code: str | None) -> Country | None:
    """The country with this ISO 3166-1 alpha-2 code, or None."""
    return _by_code().get(normalise(code))


def _sort_key(name: str) -> str:
    """Accents ignored, so that «Åland» sorts with the A."""
    plain = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in plain if not unicodedata.combining(ch)).casefold()


def countries(language: str = "it") -> list[Country]:
    """Every country, Italy first, then by name in the language (Italian unless "en")."""
    rows = [c for code, c in _by_code().items() if code != ITALY]

    def name(c: Country) -> str:
        return c.name_en if language == "en" else c.name_it

    return [_by_code()[ITALY], *sorted(rows, key=lambda c: _sort_key(name(c)))]


def siuss_code(code: str | None) -> str | None:
    """The SIUSS code (CodiceCittadinanza) of a citizenship, or None when unknown."""
    found = country(code)
    return found.siuss_code if found else None
