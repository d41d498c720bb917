"""Retention: the nightly job that keeps each class of data only as long as it is needed.

- Accounting records (ledger entries, statements and their invoices, SIUSS flows, the audit
  trail): kept at least ten years (art. 2220 c.c.; the ente may keep them longer). The job
  never deletes them, and the database refuses to delete the ledger, the audit trail and
  frozen statement lines anyway. Past that period, discarding them is the ente's archival
  act (scarto d'archivio, art. 21 D.Lgs. 42/2004, authorised by the Soprintendenza
  archivistica): the job only counts the ledger entries that have reached it.
- Personal details beyond what the accounts need: pseudonymised once the personal period
  (five years by default) has passed since the end of the person's last voucher (its
  `valid_until`; for a person with no voucher, since registration) and since their last
  ISEE record was entered. See `pseudonymise_beneficiary` for what changes and what stays.
  Rows of bulk-issuance files that matched nobody are pseudonymised after the same period.
- Batch letters with PINs: deleted once downloaded, and in any case BATCH_LETTERS_KEEP_DAYS
  days after they were written (voucher.services.batch_files); the job runs that purge too.
- Logs: the audit trail is accounting evidence and stays with the accounting records (its
  events carry ids, never names); request logs are the operator's (README, "Retention").

The job is idempotent (a person is pseudonymised once) and records one audit event per run,
with counts only.
"""

import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time

from flask import current_app
from sqlalchemy import exists, func, select

from ..extensions import db
from ..models import (
    Beneficiary,
    Household,
    IseeRecord,
    IssueBatch,
    IssueBatchRow,
    LedgerEntry,
    Voucher,
)
from . import Actor, audit, batch_files, clock
from .privacy import privacy_settings

PSEUDONYM_PREFIX = "#"
# The pseudonym of a fiscal code: the prefix and 14 hex digits of its HMAC (the stem, the
# same for every record of one person), then one character that tells apart two records of
# the same person (registered again after the first was pseudonymised). Never a valid
# fiscal code, so no search by fiscal code finds it.
_STEM_DIGITS = 14
_SEQUENCE = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PSEUDONYMISED_FIRST_NAME = "Persona"
_CHUNK = 500


@dataclass(frozen=True)
class RetentionOutcome:
    """What one run did: its cutoffs and how many records of each kind it changed."""

    personal_cutoff: date
    accounting_cutoff: date
    pseudonymised: int
    households: int
    batch_rows: int
    letters_purged: int
    accounting_past_retention: int


def years_before(day: date, years: int) -> date:
    """The same day `years` earlier (28 February for a 29th with no match)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _start_of(day: date) -> datetime:
    """Midnight in Rome at the start of `day`, in UTC (timestamps are stored in UTC)."""
    return datetime.combine(day, time(), tzinfo=clock.ROME).astimezone(UTC)


def pseudonym_key() -> bytes:
    """PSEUDONYM_KEY, or a key derived from the PIN pepper: a server secret kept out of the
    database and of its backups, so that a pseudonym cannot be traced back from them."""
    configured = current_app.config.get("PSEUDONYM_KEY")
    if configured:
        return configured.encode()
    pepper = current_app.config["PIN_PEPPER"].encode()
    return hmac.new(pepper, b"voucher.pseudonym.v1", hashlib.sha256).digest()


def pseudonym_stem(fiscal_code: str, key: bytes) -> str:
    """The part of the pseudonym that is the same for every record of one fiscal code."""
    normalised = (fiscal_code or "").strip().upper().encode()
    digest = hmac.new(key, normalised, hashlib.sha256).hexdigest().upper()
    return PSEUDONYM_PREFIX + digest[:_STEM_DIGITS]


def is_pseudonym(fiscal_code: str | None) -> bool:
    return bool(fiscal_code) and fiscal_code.startswith(PSEUDONYM_PREFIX)


def _free_pseudonym(stem: str) -> str:
    """The stem with the first sequence character no other record holds (fiscal codes are
    unique)."""
    taken = set(
        db.session.execute(
            select(Beneficiary.fiscal_code).where(Beneficiary.fiscal_code.startswith(stem))
        ).scalars()
    )
    for character in _SEQUENCE:
        if stem + character not in taken:
            return stem + character
    raise RuntimeError("pseudonym sequence exhausted")  # 36 records of one fiscal code


def pseudonymise_beneficiary(person: Beneficiary, key: bytes, now: datetime) -> None:
    """Replace what identifies the person and the accounts do not need.

    Replaced: the fiscal code (by its pseudonym), first and last name, address, phone,
    e-mail, the representative's fiscal code and role (a third person's data), the DSU
    protocols of their ISEE records, and the fiscal code and note of their
    rows in bulk-issuance files. The birth date keeps only its year (SIUSS reports the year).
    Kept, because reports read them: sex, citizenship, Comune of residence, categories, ISEE
    values and dates, the household, and every voucher and ledger entry, so that every
    figure of every report stays the same."""
    stem = pseudonym_stem(person.fiscal_code, key)
    person.fiscal_code = _free_pseudonym(stem)
    person.first_name = PSEUDONYMISED_FIRST_NAME
    person.last_name = person.fiscal_code
    person.birth_date = date(person.birth_date.year, 1, 1)
    person.address = person.phone = person.email = None
    person.representative_fiscal_code = person.representative_role = None
    for record in person.isee_records:
        record.dsu_protocol = None
    rows = db.session.execute(
        select(IssueBatchRow).where(IssueBatchRow.beneficiary_id == person.id)
    ).scalars()
    for row in rows.all():
        row.fiscal_code, row.note = stem, None
    person.pseudonymised_at = now
    db.session.flush()


def people_due(today: date, personal_years: int) -> list[int]:
    """The ids of the people whose personal period has passed, not yet pseudonymised."""
    cutoff = years_before(today, personal_years)
    moment = _start_of(cutoff)
    recent_voucher = exists().where(
        Voucher.beneficiary_id == Beneficiary.id, Voucher.valid_until >= cutoff
    )
    recent_isee = exists().where(
        IseeRecord.beneficiary_id == Beneficiary.id, IseeRecord.created_at >= moment
    )
    return list(
        db.session.execute(
            select(Beneficiary.id)
            .where(
                Beneficiary.pseudonymised_at.is_(None),
                Beneficiary.created_at < moment,
                ~recent_voucher,
                ~recent_isee,
            )
            .order_by(Beneficiary.id)
        ).scalars()
    )


def people_due_now() -> int:
    """How many people the job would pseudonymise today (the command's --dry-run)."""
    return len(people_due(clock.today(), privacy_settings().retention_personal_years))


def _pseudonymise_households() -> int:
    """Households whose members are all pseudonymised lose their label (often a surname)."""
    member = exists().where(Beneficiary.household_id == Household.id)
    identified = exists().where(
        Beneficiary.household_id == Household.id, Beneficiary.pseudonymised_at.is_(None)
    )
    count = 0
    households = db.session.execute(select(Household).where(member, ~identified)).scalars()
    for household in households.all():
        label = f"{PSEUDONYM_PREFIX}{household.id}"
        if household.label != label:
            household.label = label
            count += 1
    db.session.flush()
    return count


def _pseudonymise_unmatched_rows(key: bytes, moment: datetime) -> int:
    """Rows of old bulk-issuance files that matched nobody registered: the fiscal code as
    typed becomes its pseudonym stem, the note goes."""
    rows = db.session.execute(
        select(IssueBatchRow)
        .join(IssueBatch, IssueBatch.id == IssueBatchRow.batch_id)
        .where(
            IssueBatchRow.beneficiary_id.is_(None),
            IssueBatch.created_at < moment,
            ~IssueBatchRow.fiscal_code.startswith(PSEUDONYM_PREFIX),
        )
    ).scalars()
    count = 0
    for row in rows.all():
        row.fiscal_code, row.note = pseudonym_stem(row.fiscal_code, key), None
        count += 1
    db.session.flush()
    return count


def _purge_letters(actor: Actor) -> int:
    """The batch letters' own expiry (the `expire` job runs it too: running it twice is
    harmless), so that this job alone applies every retention rule."""
    days = privacy_settings().letters_keep_days
    return batch_files.purge_expired_letters(actor, days)


def run_retention(actor: Actor, today: date | None = None) -> RetentionOutcome:
    """The nightly job: pseudonymise the people past their period, run the letters' purge,
    count the accounting records past theirs, and record one audit event with the counts."""
    today = today or clock.today()
    settings = privacy_settings()
    personal_cutoff = years_before(today, settings.retention_personal_years)
    accounting_cutoff = years_before(today, settings.retention_accounting_years)
    key, now = pseudonym_key(), clock.now()
    due = people_due(today, settings.retention_personal_years)
    for start in range(0, len(due), _CHUNK):
        chunk = due[start : start + _CHUNK]
        people = db.session.execute(select(Beneficiary).where(Beneficiary.id.in_(chunk)))
        for person in people.scalars().all():
            pseudonymise_beneficiary(person, key, now)
    outcome = RetentionOutcome(
        personal_cutoff=personal_cutoff,
        accounting_cutoff=accounting_cutoff,
        pseudonymised=len(due),
        households=_pseudonymise_households(),
        batch_rows=_pseudonymise_unmatched_rows(key, _start_of(personal_cutoff)),
        letters_purged=_purge_letters(actor),
        accounting_past_retention=db.session.execute(
            select(func.count())
            .select_from(LedgerEntry)
            .where(LedgerEntry.service_date < accounting_cutoff)
        ).scalar_one(),
    )
    audit.record(actor, "retention.run", "retention", None, **asdict(outcome))
    return outcome
