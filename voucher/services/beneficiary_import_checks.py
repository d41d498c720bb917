"""The dry run of a bulk import of beneficiaries: each row of the file checked as a single
registration would be, without writing anything, and planned for registration or refused
with a reason. A codice fiscale that disagrees with its row's name, sex or birth date
(services.fiscal_match) is planned with a warning, not refused."""

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import CATEGORIES, Beneficiary, BeneficiaryImportRow, Comune
from . import Actor
from .beneficiary_import_files import ImportedRow
from .citizenship import ITALY, country
from .ente import comune_by_istat, get_ente, official_comune
from .fiscal_match import mismatches
from .identifiers import parse_fiscal_code

_LOOKUP_CHUNK = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SEXES = {"m": "M", "maschio": "M", "uomo": "M", "f": "F", "femmina": "F", "donna": "F"}

# Why a row is refused; the code is stored, the label shown with the row's message.
REASONS = {
    "missing_fiscal_code": "Codice fiscale mancante",
    "invalid_fiscal_code": "Codice fiscale non valido",
    "duplicate_row": "Riga ripetuta",
    "already_registered": "Già registrato",
    "missing_name": "Nome o cognome mancante",
    "unknown_comune": "Comune sconosciuto",
    "outside_team": "Comune non assegnato",
    "unknown_category": "Categoria sconosciuta",
    "invalid_details": "Dati non validi",
    "fiscal_code_mismatch": "Codice fiscale da verificare",
}


class RowRefused(Exception):
    """A row's reason code and message."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _plain(text: str) -> str:
    """Accents, case and repeated spaces ignored: how names and labels are matched."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace("’", "'").split())


def _categories(text: str, labels: Mapping[str, str]) -> list[str]:
    by_name = {_plain(code): code for code in CATEGORIES}
    by_name.update({_plain(str(label)): code for code, label in labels.items()})
    found, unknown = [], []
    for part in re.split(r"[,;|]", text or ""):
        if part.strip():
            code = by_name.get(_plain(part))
            (found if code else unknown).append(code or part.strip())
    if unknown:
        raise RowRefused("unknown_category", f"Categorie sconosciute: {', '.join(unknown)}."[:300])
    return list(dict.fromkeys(found))


class DryRun:
    """What the dry run looks up once for the whole file."""

    def __init__(self, actor: Actor, rows: list[ImportedRow], labels: Mapping[str, str]):
        self.actor, self.labels = actor, labels
        ente = get_ente()
        self.ente_comuni = {_plain(c.name): c for c in ente.comuni} if ente else {}
        codes = sorted({_code(r.get("fiscal_code")) for r in rows} - {""})
        self.registered: set[str] = set()
        for start in range(0, len(codes), _LOOKUP_CHUNK):
            chunk = codes[start : start + _LOOKUP_CHUNK]
            self.registered.update(
                db.session.execute(
                    select(Beneficiary.fiscal_code).where(Beneficiary.fiscal_code.in_(chunk))
                ).scalars()
            )

    def comune(self, istat_code: str, name: str) -> tuple[str, str]:
        """The row's Comune as (ISTAT code, name): any Italian Comune by code, one of the
        ente's by name; refused outside the social worker's team."""
        record: Comune | None = None
        if istat_code.isdigit() and 4 <= len(istat_code) < 6:
            istat_code = istat_code.zfill(6)  # a spreadsheet dropped the leading zeros
        elif istat_code and not istat_code.isdigit() and not name:
            istat_code, name = "", istat_code  # a name in the code's column
        if istat_code:
            record = comune_by_istat(istat_code)
            official = official_comune(istat_code)
            if record is None and official is None:
                raise RowRefused(
                    "unknown_comune", f"Nessun Comune italiano ha il codice ISTAT «{istat_code}»."
                )
            found = (istat_code, record.name if record else official.name)
        elif name:
            record = self.ente_comuni.get(_plain(name))
            if record is None:
                raise RowRefused(
                    "unknown_comune",
                    f"«{name}» non è tra i Comuni dell'ente: per un Comune diverso, indicarne "
                    "il codice ISTAT nella colonna comune_istat.",
                )
            found = (record.istat_code, record.name)
        else:
            raise RowRefused("unknown_comune", "La riga non indica il Comune di residenza.")
        team = self.actor.team
        if record is not None and record.ente_id is not None and team and record.id not in team:
            raise RowRefused(
                "outside_team",
                f"{record.name} non è tra i Comuni assegnati al tuo profilo.",
            )
        return found


def _code(text: str) -> str:
    return "".join((text or "").split()).upper()


def _optional_date(text: str) -> date | None:
    if not text:
        return None
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise RowRefused("invalid_details", f"Data di nascita non valida: «{text}» (gg/mm/aaaa).")


def _details(row: ImportedRow, context: DryRun) -> tuple[dict, list[str]]:
    """The row's details as register_beneficiary takes them, and the fiscal-code warnings."""
    first, last = row.get("first_name"), row.get("last_name")
    if not first or not last or len(first) > 100 or len(last) > 100:
        raise RowRefused("missing_name", "Nome e cognome sono obbligatori (100 caratteri al più).")
    istat_code, comune_name = context.comune(row.get("comune_istat"), row.get("comune"))
    details = {
        "first_name": first,
        "last_name": last,
        "comune_istat": istat_code,
        "comune_name": comune_name,
        "categories": _categories(row.get("categories"), context.labels),
        "phone": row.get("phone")[:40] or None,
        "email": row.get("email") or None,
        "address": row.get("address") or None,
        "citizenship": (row.get("citizenship") or ITALY).upper(),
    }
    if details["email"] and (len(details["email"]) > 254 or not _EMAIL.match(details["email"])):
        raise RowRefused("invalid_details", f"Indirizzo e-mail non valido: «{details['email']}».")
    if country(details["citizenship"]) is None:
        raise RowRefused(
            "invalid_details",
            f"Cittadinanza sconosciuta: «{details['citizenship']}» (codice di due lettere, "
            "es. IT, AL, MA).",
        )
    sex_text = _plain(row.get("sex"))
    if sex_text and sex_text not in _SEXES:
        raise RowRefused("invalid_details", f"Sesso non valido: «{row.get('sex')}» (M o F).")
    found = mismatches(
        _code(row.get("fiscal_code")),
        last_name=last,
        first_name=first,
        sex=_SEXES.get(sex_text),
        birth_date=_optional_date(row.get("birth_date")),
    )
    return details, found


def plan_row(row: ImportedRow, context: DryRun, seen: dict[str, int]) -> BeneficiaryImportRow:
    code = _code(row.get("fiscal_code"))
    planned = BeneficiaryImportRow(
        line=row.line,
        fiscal_code=code[:16] or None,
        data={"first_name": row.get("first_name"), "last_name": row.get("last_name")},
        outcome="register",
    )
    try:
        if not code:
            raise RowRefused("missing_fiscal_code", "La riga non ha un codice fiscale.")
        try:
            parse_fiscal_code(code)
        except ValidationFailed:
            raise RowRefused("invalid_fiscal_code", "Il codice fiscale non è valido.") from None
        if code in seen:
            raise RowRefused("duplicate_row", f"Stesso codice fiscale della riga {seen[code]}.")
        seen[code] = row.line
        if code in context.registered:
            raise RowRefused(
                "already_registered", "Un beneficiario con questo codice fiscale è già registrato."
            )
        planned.data, found = _details(row, context)
        planned.warning = " ".join(found)[:300] or None
    except RowRefused as refusal:
        planned.outcome, planned.reason, planned.message = (
            "refused",
            refusal.reason,
            refusal.message,
        )
    return planned
