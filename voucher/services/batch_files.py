"""The files of bulk issuance: the uploaded CSV, the batch's PDF of letters (the only copy
of its PINs, downloaded once and otherwise deleted after BATCH_LETTERS_KEEP_DAYS) and the
CSV of codes for mailing."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload, undefer

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..models import Beneficiary, IssueBatch, IssueBatchDocument, IssueBatchRow, Voucher
from ..models.status import BatchStatus, allows
from . import Actor, audit, clock

MAX_ROWS = 20_000
_FISCAL_CODE_HEADERS = {"codicefiscale", "cf", "fiscalcode"}
_NOTE_HEADERS = {"note", "nota", "notes"}
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class UploadedRow:
    """One row of the uploaded file: its line number, the codice fiscale and a note."""

    line: int
    fiscal_code: str
    note: str | None = None


# Reading the file


def _invalid_file(message: str) -> ValidationFailed:
    return ValidationFailed("File non valido", errors={"file": [message]})


def _decode(data: bytes) -> str:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise _invalid_file("Il file è un foglio di calcolo: salvarlo in formato CSV.")
    if b"\x00" in data:
        raise _invalid_file("Il file non è un CSV di testo.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Spreadsheets saved as CSV on Windows use this code page.
        return data.decode("cp1252", errors="replace")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header_key(cell: str) -> str:
    return "".join(ch for ch in cell.lower() if ch.isalnum())


def read_rows(data: bytes, max_rows: int = MAX_ROWS) -> list[UploadedRow]:
    """The rows of an uploaded CSV: a `codice_fiscale` column and an optional `note`
    (a file without a header is read as codice fiscale, note)."""
    text = _decode(data)
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise _invalid_file("Il file è vuoto.")
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    rows: list[UploadedRow] = []
    cf_col, note_col, header_seen = 0, 1, False
    try:
        for record in reader:
            cells = [c.strip() for c in record]
            if not any(cells):
                continue
            if not header_seen:
                header_seen = True
                keys = [_header_key(c) for c in cells]
                if any(k in _FISCAL_CODE_HEADERS | _NOTE_HEADERS for k in keys):
                    cf_col = next((i for i, k in enumerate(keys) if k in _FISCAL_CODE_HEADERS), -1)
                    if cf_col < 0:
                        raise _invalid_file("Manca la colonna «codice_fiscale».")
                    note_col = next((i for i, k in enumerate(keys) if k in _NOTE_HEADERS), -1)
                    continue
            if len(rows) >= max_rows:
                raise _invalid_file(f"Il file ha più di {max_rows} righe: dividerlo in più lotti.")
            code = cells[cf_col] if cf_col < len(cells) else ""
            note = cells[note_col] if 0 <= note_col < len(cells) else ""
            rows.append(UploadedRow(reader.line_num, code[:32], note[:200] or None))
    except csv.Error:
        raise _invalid_file("Il file CSV non è leggibile.") from None
    if not rows:
        raise _invalid_file("Il file non contiene righe da elaborare.")
    return rows


def template_csv() -> bytes:
    """The file to fill in: a header and nothing else, so that no example is ever issued."""
    return "codice_fiscale;note\r\n".encode("utf-8-sig")


def merge_pdfs(parts: list[bytes]) -> bytes:
    """One PDF with the pages of all the parts, in order."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# The documents of a batch


def letters_document(batch: IssueBatch) -> IssueBatchDocument | None:
    """The batch's merged PDF of letters, when there is one."""
    return db.session.execute(
        select(IssueBatchDocument)
        .where(IssueBatchDocument.batch_id == batch.id, IssueBatchDocument.kind == "letters")
        .options(undefer(IssueBatchDocument.content))
    ).scalar_one_or_none()


def has_letters(batch: IssueBatch) -> bool:
    """Whether the batch's PDF of letters is still kept (it leaves once downloaded)."""
    return bool(
        db.session.execute(
            select(IssueBatchDocument.id).where(
                IssueBatchDocument.batch_id == batch.id, IssueBatchDocument.kind == "letters"
            )
        ).first()
    )


def letters_keep_until(batch: IssueBatch, keep_days: int) -> datetime | None:
    """When the nightly job deletes the batch's letters if nobody downloads them."""
    if batch.finished_at is None:
        return None
    return batch.finished_at + timedelta(days=keep_days)


def _letters_gone(batch: IssueBatch) -> NotFound:
    if batch.letters_removed_reason == "downloaded":
        return NotFound(
            "Le lettere di questo lotto sono già state scaricate e non sono più sul server: "
            "per ristampare una lettera, crea un nuovo PIN dalla pagina del buono."
        )
    return NotFound("Il PDF delle lettere di questo lotto non è disponibile.")


def letters_pdf_for_download(actor: Actor, batch: IssueBatch) -> bytes:
    """The batch PDF, with the PINs, read without being taken; every read is audited. The
    pages use download_letters, which deletes it."""
    document = letters_document(batch)
    if not allows("batch", batch.status, "download") or document is None:
        raise _letters_gone(batch)
    audit.record(actor, "batch.letters_downloaded", "batch", batch.id)
    return document.content


def _lock(batch: IssueBatch) -> IssueBatch:
    return db.session.execute(
        select(IssueBatch)
        .where(IssueBatch.id == batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _remove_letters(batch: IssueBatch, user_id: int | None, reason: str) -> None:
    db.session.execute(
        delete(IssueBatchDocument)
        .where(IssueBatchDocument.batch_id == batch.id)
        .execution_options(synchronize_session=False)
    )
    batch.letters_removed_at = clock.now()
    batch.letters_removed_by_id = user_id
    batch.letters_removed_reason = reason
    db.session.flush()


def download_letters(actor: Actor, batch: IssueBatch) -> bytes:
    """The batch PDF, with the PINs, handed out once: it is deleted in the same transaction,
    so that the PINs stay on the server (and in its backups) no longer than needed. Of two
    downloads at once, the second waits on the batch's lock and finds nothing."""
    batch = _lock(batch)
    document = letters_document(batch)
    if not allows("batch", batch.status, "download") or document is None:
        raise _letters_gone(batch)
    content = document.content
    _remove_letters(batch, actor.user_id, "downloaded")
    audit.record(actor, "batch.letters_downloaded", "batch", batch.id, erased=True)
    return content


def delete_letters(actor: Actor, batch: IssueBatch) -> None:
    """Erase the batch PDF once the letters are printed: it holds the only copy of the PINs."""
    batch = _lock(batch)
    if letters_document(batch) is None:
        raise _letters_gone(batch)
    _remove_letters(batch, actor.user_id, "deleted")
    audit.record(actor, "batch.letters_deleted", "batch", batch.id)


def purge_expired_letters(actor: Actor, keep_days: int, now: datetime | None = None) -> int:
    """The nightly job: delete the letters (merged or in parts) of every batch no longer at
    work whose letters were written more than `keep_days` days ago. Returns how many batches
    lost their letters."""
    cutoff = (now or clock.now()) - timedelta(days=max(0, keep_days))
    expired = (
        db.session.execute(
            select(IssueBatch)
            .where(
                IssueBatch.status.in_((BatchStatus.DONE, BatchStatus.FAILED)),
                IssueBatch.id.in_(
                    select(IssueBatchDocument.batch_id).where(
                        IssueBatchDocument.created_at <= cutoff
                    )
                ),
            )
            .order_by(IssueBatch.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    for batch in expired:
        _remove_letters(batch, None, "expired")
        audit.record(actor, "batch.letters_expired", "batch", batch.id, keep_days=keep_days)
    return len(expired)


def _cell(value) -> str:
    """Spreadsheets run cells that start like a formula: neutralise them."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text


def _euro(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def codes_csv(actor: Actor, batch: IssueBatch) -> bytes:
    """The codes of the batch for mailing: code, name, address, value and validity (never
    the PIN). Semicolon-separated with a BOM, as spreadsheets in Italy expect."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(
        ["codice_buono", "cognome", "nome", "indirizzo", "comune", "valore_euro", "valido_fino_al"]
        + ["note"]
    )
    rows = db.session.execute(
        select(IssueBatchRow, Voucher, Beneficiary)
        .join(Voucher, Voucher.id == IssueBatchRow.voucher_id)
        .join(Beneficiary, Beneficiary.id == Voucher.beneficiary_id)
        .where(IssueBatchRow.batch_id == batch.id)
        .order_by(IssueBatchRow.line)
        .options(selectinload(Beneficiary.comune))
    )
    for row, voucher, person in rows:
        writer.writerow(
            [
                _cell(voucher.code),
                _cell(person.last_name),
                _cell(person.first_name),
                _cell(person.address),
                _cell(person.comune.name),
                _euro(voucher.value_cents),
                voucher.valid_until.strftime("%d/%m/%Y"),
                _cell(row.note),
            ]
        )
    audit.record(actor, "batch.codes_downloaded", "batch", batch.id)
    return out.getvalue().encode("utf-8-sig")
