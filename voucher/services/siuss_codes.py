"""Codes that the SIUSS PS schema (PS_PSA_SINA201812.xsd) asks for, derived from what we hold."""

import re
from datetime import date
from decimal import Decimal

from ..errors import Conflict
from . import citizenship
from .money import round_half_up

# CodiceNazione / CodiceCittadinanza: ISO 3166-1 numeric, as the XSD's "Italia (380)" shows.
ITALY = "380"
OTHER_PRESTAZIONE = "Z9.99"  # «Altro» in INPS's list, for a service with no SIUSS code
PRESA_IN_CARICO, NO_PRESA = "1", "2"  # PresaCaricoType: SI, NO

# A DSU protocol as INPS gives it: INPS-ISEE-AAAA-NNNNNNNNN-NN, AAAA the year of the DSU.
_DSU_PROTOCOL = re.compile(r"^INPS-ISEE-(\d{4})-")

# ISTAT region code (2 digits) for each province code (the first 3 digits of a Comune's
# ISTAT code), including the Sardinian provinces abolished in 2016 (104-107).
_REGIONS = {
    "01": "001 002 003 004 005 006 096 103",
    "02": "007",
    "03": "012 013 014 015 016 017 018 019 020 097 098 108",
    "04": "021 022",
    "05": "023 024 025 026 027 028 029",
    "06": "030 031 032 093",
    "07": "008 009 010 011",
    "08": "033 034 035 036 037 038 039 040 099",
    "09": "045 046 047 048 049 050 051 052 053 100",
    "10": "054 055",
    "11": "041 042 043 044 109",
    "12": "056 057 058 059 060",
    "13": "066 067 068 069",
    "14": "070 094",
    "15": "061 062 063 064 065",
    "16": "071 072 073 074 075 110",
    "17": "076 077",
    "18": "078 079 080 101 102",
    "19": "081 082 083 084 085 086 087 088 089",
    "20": "090 091 092 095 104 105 106 107 111",
}
PROVINCE_REGION = {p: region for region, codes in _REGIONS.items() for p in codes.split()}

# Omocodia: a digit of the codice fiscale may have been replaced by one of these letters.
_OMOCODIA = str.maketrans("LMNPQRSTUV", "0123456789")


def region_of(istat_code: str) -> str | None:
    """The ISTAT region of a Comune, from its province code."""
    return PROVINCE_REGION.get((istat_code or "")[:3])


def birthplace_code(fiscal_code: str) -> str:
    """The Belfiore code of the birthplace (a Comune, or Z… for a foreign country), with
    omocodia undone."""
    code = fiscal_code.upper()
    return code[11] + code[12:15].translate(_OMOCODIA)


def citizenship_code(iso_alpha2: str) -> str:
    """CodiceCittadinanza: the SIUSS code of an ISO 3166-1 alpha-2 citizenship."""
    code = citizenship.siuss_code(iso_alpha2)
    if code is None:
        raise Conflict(
            f"La cittadinanza {iso_alpha2} non ha un codice SIUSS: correggere i dati del "
            "beneficiario."
        )
    return code


def dsu_attributes(protocol: str | None, dsu_date: date | None) -> dict:
    """NumeroProtocolloDSU (the whole protocol, at most 30 characters), AnnoProtocolloDSU
    (its year) and DataDSU; nothing without a protocol."""
    protocol = (protocol or "").strip()
    if not protocol:
        return {}
    year = _DSU_PROTOCOL.match(protocol)
    attrs = {"NumeroProtocolloDSU": protocol[:30]}
    if year or dsu_date:
        attrs["AnnoProtocolloDSU"] = year.group(1) if year else f"{dsu_date.year:04d}"
    if dsu_date:
        attrs["DataDSU"] = dsu_date.isoformat()
    return attrs


def genere(sex: str) -> str:
    """Genere: 1 male, 2 female."""
    return "1" if sex == "M" else "2"


def area_utenza(categories: list[str], scheme_area: str) -> str | None:
    """AreaUtenza: 1 famiglia e minori, 2 disabilità e non autosufficienza, 3 povertà ed
    esclusione sociale; from the beneficiary's categories first, else the scheme's area."""
    cats = set(categories or ())
    if cats & {"disabled", "elderly_dependent"}:
        return "2"
    if cats & {"minor", "fragile_parenting"}:
        return "1"
    if "inclusion_household" in cats:
        return "3"
    return {"B": "1", "C": "2", "P": "3"}.get(scheme_area)


def euro_text(cents: int) -> str:
    """An xs:decimal amount in euros: 1234.50."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def per_month(cents: int, months: int) -> int:
    """A monthly amount, rounded half-up to the cent."""
    return round_half_up(Decimal(cents) / months)


def decimal_text(value: Decimal) -> str:
    """An xs:decimal with two places: 12.50."""
    return f"{value.quantize(Decimal('0.01'))}"
