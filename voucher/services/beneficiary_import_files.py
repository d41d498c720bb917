"""The files of the bulk import of beneficiaries: the uploaded CSV (read with the same rules
as bulk issuance's: UTF-8 with or without BOM, or the Windows code page; `;`, `,` or tab),
the empty template, and the fiscal codes of the people registered, ready for bulk issuance."""

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from ..models import Beneficiary, BeneficiaryImport, BeneficiaryImportRow
from . import Actor, audit
from .batch_files import _cell, _decode, _delimiter, _header_key, _invalid_file

# Registration runs within the confirming request: a few thousand people at a time.
MAX_ROWS = 2_000
MAX_CELL = 300

# The columns, by the Italian names of the template; a few usual variants are accepted too.
COLUMNS = {
    "fiscal_code": {"codicefiscale", "cf"},
    "first_name": {"nome"},
    "last_name": {"cognome"},
    "comune_istat": {"comuneistat", "istat", "codiceistat"},
    "comune": {"comune", "comunediresidenza", "residenza"},
    "categories": {"categorie", "categoria"},
    "phone": {"telefono", "tel"},
    "email": {"email", "mail", "posta"},
    "address": {"indirizzo"},
    "citizenship": {"cittadinanza"},
    # Optional, only checked against the codice fiscale.
    "birth_date": {"datanascita", "datadinascita", "natail", "natoail"},
    "sex": {"sesso"},
}
TEMPLATE_HEADER = (
    "codice_fiscale",
    "nome",
    "cognome",
    "comune_istat",
    "comune",
    "categorie",
    "telefono",
    "email",
    "indirizzo",
    "cittadinanza",
)


@dataclass(frozen=True)
class ImportedRow:
    """One row of the file: its line number and its cells by field name."""

    line: int
    values: dict[str, str]

    def get(self, field: str) -> str:
        return self.values.get(field, "")


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_header_key(cell) for cell in header]
    found = {}
    for field, names in COLUMNS.items():
        index = next((i for i, key in enumerate(keys) if key in names), None)
        if index is not None:
            found[field] = index
    missing = [
        name
        for field, name in (
            ("fiscal_code", "codice_fiscale"),
            ("first_name", "nome"),
            ("last_name", "cognome"),
        )
        if field not in found
    ]
    if "comune_istat" not in found and "comune" not in found:
        missing.append("comune_istat (o comune)")
    if missing:
        raise _invalid_file(
            "Mancano le colonne: "
            + ", ".join(f"«{m}»" for m in missing)
            + ". Scaricare il modello e usarne l'intestazione."
        )
    return found


def read_people(data: bytes, max_rows: int = MAX_ROWS) -> list[ImportedRow]:
    """The rows of an uploaded CSV of people, whose first line names the columns."""
    text = _decode(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise _invalid_file("Il file è vuoto.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    rows: list[ImportedRow] = []
    columns: dict[str, int] | None = None
    try:
        for record in reader:
            cells = [c.strip() for c in record]
            if not any(cells):
                continue
            if columns is None:
                columns = _columns(cells)
                continue
            if len(rows) >= max_rows:
                raise _invalid_file(
                    f"Il file ha più di {max_rows} righe: dividerlo in più importazioni."
                )
            values = {field: cells[i][:MAX_CELL] for field, i in columns.items() if i < len(cells)}
            rows.append(ImportedRow(reader.line_num, values))
    except csv.Error:
        raise _invalid_file("Il file CSV non è leggibile.") from None
    if not rows:
        raise _invalid_file("Il file non contiene righe da importare.")
    return rows


def template_csv() -> bytes:
    """The file to fill in: the header only, semicolon-separated with a BOM."""
    return (";".join(TEMPLATE_HEADER) + "\r\n").encode("utf-8-sig")


def registered_codes_csv(actor: Actor, beneficiary_import: BeneficiaryImport) -> bytes:
    """The fiscal codes of the people the import registered, as bulk issuance reads them
    (codice_fiscale;note). Audited: the file is a list of people."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["codice_fiscale", "note"])
    codes = db.session.execute(
        select(Beneficiary.fiscal_code)
        .join(BeneficiaryImportRow, BeneficiaryImportRow.beneficiary_id == Beneficiary.id)
        .where(BeneficiaryImportRow.import_id == beneficiary_import.id)
        .order_by(BeneficiaryImportRow.line)
    ).scalars()
    count = 0
    for code in codes:
        writer.writerow([_cell(code), ""])
        count += 1
    audit.record(
        actor,
        "beneficiary_import.codes_downloaded",
        "beneficiary_import",
        beneficiary_import.id,
        count=count,
    )
    return out.getvalue().encode("utf-8-sig")
