"""Bulk issuance: reading the file, the dry run, confirmation, processing in chunks under a
lease, resuming after a crash, and the batch's documents."""

import csv
import io
import threading
import time
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from tests import factories as f
from tests.conftest import make_app
from voucher import jobs
from voucher.errors import Conflict, SchemeNotActive, ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent, IssueBatch, IssueBatchDocument, Voucher
from voucher.services import SYSTEM, batch_files, batch_processing, batches, clock, issuance


def csv_of(*lines: str, header: str | None = "codice_fiscale;note") -> bytes:
    body = ([header] if header else []) + list(lines)
    return ("\r\n".join(body) + "\r\n").encode()


@pytest.fixture
def worker(app):
    user = f.make_user("social_worker")
    return f.actor(user)


@pytest.fixture
def world(app):
    f.make_ente()
    return f.make_scheme(face_value_cents=50_000, budget_cents=10_000_000)


def unregistered_code() -> str:
    return f.fiscal_code_for(f.unique_birth_date(70), "M")


def outcomes(planned) -> list[tuple[str, str | None]]:
    return [(p.outcome, p.reason) for p in planned]


def vouchers_of(batch) -> list[Voucher]:
    return list(db.session.execute(select(Voucher).where(Voucher.batch_id == batch.id)).scalars())


def make_batch(worker, scheme, people, **kwargs):
    batch = batches.create_batch(worker, scheme, csv_of(*(p.fiscal_code for p in people)), **kwargs)
    db.session.commit()
    return batch


# Reading the file


def test_read_rows_with_header_note_and_blank_lines(app):
    data = "\ufeffCodice Fiscale;Note\r\n RSS 1 ; prima\r\n\r\n;solo nota\r\nBBB;\r\n".encode()
    rows = batch_files.read_rows(data)
    assert [(r.line, r.fiscal_code, r.note) for r in rows] == [
        (2, "RSS 1", "prima"),
        (4, "", "solo nota"),
        (5, "BBB", None),
    ]


def test_read_rows_comma_separated_columns_in_any_order(app):
    rows = batch_files.read_rows(b"note,cf\nciao,AAA\n")
    assert [(r.fiscal_code, r.note) for r in rows] == [("AAA", "ciao")]


def test_read_rows_without_header_and_in_windows_encoding(app):
    rows = batch_files.read_rows("AAA;città\nBBB\n".encode("cp1252"))
    assert [(r.line, r.fiscal_code, r.note) for r in rows] == [
        (1, "AAA", "città"),
        (2, "BBB", None),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "vuoto"),
        (b"\r\n \r\n", "vuoto"),
        (b"note;altro\nx;y\n", "codice_fiscale"),
        (b"codice_fiscale\n", "non contiene righe"),
        (b"PK\x03\x04binary", "foglio di calcolo"),
        (b"AAA\x00BBB", "non è un CSV"),
    ],
)
def test_read_rows_refuses_unusable_files(app, data, message):
    with pytest.raises(ValidationFailed) as caught:
        batch_files.read_rows(data)
    assert message in caught.value.errors["file"][0]


def test_read_rows_limits_the_size_of_a_batch(app):
    with pytest.raises(ValidationFailed) as caught:
        batch_files.read_rows(csv_of("A", "B", "C"), max_rows=2)
    assert "più di 2 righe" in caught.value.errors["file"][0]


def test_template_has_only_the_header(app):
    text = batch_files.template_csv().decode("utf-8-sig")
    assert text == "codice_fiscale;note\r\n"


# The dry run


def test_dry_run_reports_every_outcome_in_file_order(app, world):
    scheme = f.make_scheme(
        face_value_cents=50_000,
        budget_cents=150_000,
        max_active_per_beneficiary=1,
        eligible_categories=["elderly_self_sufficient"],
    )
    holder = f.make_beneficiary()
    issuance.issue_voucher(SYSTEM, scheme, holder)  # 50_000 of 150_000 committed
    db.session.commit()
    first, second, third = (f.make_beneficiary() for _ in range(3))
    minor = f.make_beneficiary(age=10, categories=("minor",))
    data = csv_of(
        f"{first.fiscal_code.lower()};prima",
        "NONVALIDO123",
        unregistered_code(),
        f" {first.fiscal_code} ",
        minor.fiscal_code,
        holder.fiscal_code,
        ";senza codice",
        second.fiscal_code,
        third.fiscal_code,
    )
    planned = batches.dry_run(scheme, batch_files.read_rows(data))
    assert outcomes(planned) == [
        ("issue", None),
        ("refused", "invalid_fiscal_code"),
        ("refused", "unknown_beneficiary"),
        ("refused", "duplicate_row"),
        ("refused", "not_eligible"),
        ("refused", "limit_reached"),
        ("refused", "missing_fiscal_code"),
        ("issue", None),
        ("refused", "budget_exceeded"),  # the two rows above took what was left
    ]
    assert planned[0].fiscal_code == first.fiscal_code and planned[0].note == "prima"
    assert planned[3].message == "Stesso codice fiscale della riga 2."
    assert "categorie" in planned[4].message
    assert "1 su un massimo di 1" in planned[5].message
    assert "righe precedenti" in planned[8].message
    assert planned[0].beneficiary_id == first.id and planned[2].beneficiary_id is None
    # a dry run writes nothing
    assert db.session.execute(select(func.count()).select_from(Voucher)).scalar_one() == 1


def test_dry_run_of_an_inactive_scheme_is_refused(app, world):
    draft = f.make_scheme(status="draft")
    with pytest.raises(SchemeNotActive):
        batches.dry_run(draft, [batch_files.UploadedRow(2, "X")])


def test_create_batch_saves_the_dry_run_as_a_draft(app, world, worker):
    people = [f.make_beneficiary() for _ in range(2)]
    batch = batches.create_batch(
        worker, world, csv_of(people[0].fiscal_code, "NONVALIDO", people[1].fiscal_code)
    )
    db.session.commit()
    assert (batch.status, batch.total, batch.planned, batch.refused) == ("draft", 3, 2, 1)
    rows = batches.batch_rows(batch)
    assert [r.line for r in rows] == [2, 3, 4]
    assert [r.result for r in rows] == [None, None, None]
    assert batches.count_rows(batch, refused_only=True) == 1
    assert batches.refused_by_reason(batch) == {"invalid_fiscal_code": 1}
    effect = batches.budget_effect(batch)
    assert effect.batch_cents == 100_000 and effect.fits
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "batch.created")
    ).scalar_one()
    assert event.object_id == str(batch.id) and event.data["planned"] == 2
    assert people[0].fiscal_code not in str(event.data)


def test_discard_a_draft(app, world, worker):
    batch = make_batch(worker, world, [f.make_beneficiary()])
    batches.discard_batch(worker, batch)
    db.session.commit()
    assert db.session.get(IssueBatch, batch.id) is None


# Confirmation and processing


def test_confirm_then_process_issues_every_planned_row(app, world, worker):
    people = [f.make_beneficiary(address=f"Via Roma {i}") for i in range(5)]
    batch = batches.create_batch(
        worker,
        world,
        csv_of(*(f"{p.fiscal_code};nota {i}" for i, p in enumerate(people)), "NONVALIDO"),
    )
    batches.confirm_batch(worker, batch)
    db.session.commit()
    assert batch.status == "queued" and batch.confirmed_by_id == worker.user_id
    with pytest.raises(Conflict):
        batches.confirm_batch(worker, batch)
    db.session.rollback()

    assert jobs.run_pending() == 1
    db.session.refresh(batch)
    assert (batch.status, batch.processed, batch.issued, batch.refused) == ("done", 5, 5, 1)
    assert batch.percent == 100 and batch.finished_at is not None and batch.lease_owner is None
    issued = vouchers_of(batch)
    assert sorted(v.beneficiary_id for v in issued) == sorted(p.id for p in people)
    assert all(v.issued_by_id == worker.user_id and v.value_cents == 50_000 for v in issued)
    rows = batches.batch_rows(batch)
    assert [r.result for r in rows] == ["issued"] * 5 + ["refused"]
    assert {r.voucher.code for r in rows[:5]} == {v.code for v in issued}

    pdf = batch_files.letters_pdf_for_download(worker, batch)
    assert pdf.startswith(b"%PDF") and len(PdfReader(io.BytesIO(pdf)).pages) >= 5
    parts = db.session.execute(
        select(IssueBatchDocument.kind).where(IssueBatchDocument.batch_id == batch.id)
    ).scalars()
    assert list(parts) == ["letters"]  # the chunks' parts were merged and dropped

    text = batch_files.codes_csv(worker, batch).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert table[0][:3] == ["codice_buono", "cognome", "nome"]
    assert [r[0] for r in table[1:]] == [r.voucher.code for r in rows[:5]]
    assert table[1][1] == people[0].last_name and table[1][3] == "Via Roma 0"
    assert table[1][5] == "500,00" and table[1][7] == "nota 0"
    assert "pin" not in table[0] and all(len(r) == len(table[0]) for r in table)
    db.session.commit()  # audit events are written at commit
    actions = set(
        db.session.execute(
            select(AuditEvent.action).where(
                AuditEvent.object_type == "batch", AuditEvent.object_id == str(batch.id)
            )
        ).scalars()
    )
    assert {
        "batch.created",
        "batch.confirmed",
        "batch.completed",
        "batch.letters_downloaded",
        "batch.codes_downloaded",
    } <= actions


def test_letters_merge_the_chunks_in_file_order(app, world, worker):
    app.config["BATCH_CHUNK_SIZE"] = 2
    try:
        people = [f.make_beneficiary() for _ in range(5)]
        batch = make_batch(worker, world, people)
        batches.confirm_batch(worker, batch)
        db.session.commit()
        jobs.run_pending()
    finally:
        app.config["BATCH_CHUNK_SIZE"] = 200
    db.session.refresh(batch)
    assert batch.issued == 5
    reader = PdfReader(io.BytesIO(batch_files.letters_pdf_for_download(worker, batch)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    codes = [r.voucher.code for r in batches.batch_rows(batch)]
    positions = [text.find(code) for code in codes]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)


def test_codes_csv_neutralises_formulas(app, world, worker):
    person = f.make_beneficiary(address="=HYPERLINK(1)")
    batch = batches.create_batch(worker, world, csv_of(f"{person.fiscal_code};+39 055"))
    batches.confirm_batch(worker, batch)
    db.session.commit()
    jobs.run_pending()
    row = batch_files.codes_csv(worker, batch).decode("utf-8-sig").splitlines()[1].split(";")
    assert row[3] == "'=HYPERLINK(1)" and row[7] == "'+39 055"


def test_processing_checks_again_and_reports_rows_refused_at_confirmation(app, world, worker):
    scheme = f.make_scheme(
        face_value_cents=50_000,
        budget_cents=200_000,
        eligible_categories=["elderly_self_sufficient"],
    )
    people = [f.make_beneficiary() for _ in range(3)]
    batch = make_batch(worker, scheme, people)
    assert batch.planned == 3
    # Between the dry run and the confirmation, others spent part of the budget, and the
    # first person's situation changed.
    for _ in range(3):
        issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    people[0].categories = ["minor"]
    db.session.commit()
    batches.confirm_batch(worker, batch)
    db.session.commit()
    jobs.run_pending()
    db.session.refresh(batch)
    assert (batch.status, batch.processed, batch.issued, batch.refused) == ("done", 3, 1, 2)
    rows = batches.batch_rows(batch)
    assert [(r.outcome, r.result, r.reason) for r in rows] == [
        ("issue", "refused", "not_eligible"),
        ("issue", "issued", None),
        ("issue", "refused", "budget_exceeded"),
    ]
    assert "budget" in rows[2].message
    assert batches.count_rows(batch, refused_only=True) == 2


def test_confirm_needs_something_to_issue_and_an_active_scheme(app, world, worker):
    empty = batches.create_batch(worker, world, csv_of("NONVALIDO"))
    db.session.commit()
    with pytest.raises(Conflict):
        batches.confirm_batch(worker, empty)
    db.session.rollback()
    batch = make_batch(worker, world, [f.make_beneficiary()])
    world.status = "closed"
    db.session.commit()
    with pytest.raises(SchemeNotActive):
        batches.confirm_batch(worker, batch)


def test_scheme_closed_after_confirmation_refuses_the_rest(app, world, worker):
    batch = make_batch(worker, world, [f.make_beneficiary() for _ in range(2)])
    batches.confirm_batch(worker, batch)
    world.status = "closed"
    db.session.commit()
    jobs.run_pending()
    db.session.refresh(batch)
    assert (batch.status, batch.issued, batch.refused) == ("done", 0, 2)
    assert batches.refused_by_reason(batch) == {"scheme_not_active": 2}
    assert not batch_files.has_letters(batch)
    with pytest.raises(Exception, match="non è disponibile"):
        batch_files.letters_pdf_for_download(worker, batch)


# Crashes, leases and retries


def confirmed(worker, scheme, count):
    batch = make_batch(worker, scheme, [f.make_beneficiary() for _ in range(count)])
    batches.confirm_batch(worker, batch)
    db.session.commit()
    return batch


def test_a_crash_mid_batch_resumes_without_issuing_twice(app, world, worker, monkeypatch):
    app.config["BATCH_CHUNK_SIZE"] = 2
    batch = confirmed(worker, world, 5)
    real_issue = batch_processing.issue_voucher
    calls = {"n": 0}

    def crashing_issue(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:  # in the second chunk, after one voucher of it was issued
            raise RuntimeError("worker died")
        return real_issue(*args, **kwargs)

    monkeypatch.setattr(batch_processing, "issue_voucher", crashing_issue)
    try:
        worker_id = "dead-worker"
        assert jobs.claim_batch(worker_id) == batch.id
        assert jobs.run_batch(batch.id, worker_id) == "error"
        db.session.refresh(batch)
        # the first chunk stayed, the second was rolled back whole
        assert (batch.status, batch.processed, batch.issued) == ("running", 2, 2)
        assert batch.error and "RuntimeError" in batch.error
        assert len(vouchers_of(batch)) == 2
        monkeypatch.setattr(batch_processing, "issue_voucher", real_issue)
        assert jobs.run_pending("another-worker") == 1
    finally:
        app.config["BATCH_CHUNK_SIZE"] = 200
    db.session.refresh(batch)
    assert (batch.status, batch.processed, batch.issued, batch.attempts) == ("done", 5, 5, 2)
    issued = vouchers_of(batch)
    assert len(issued) == 5 and len({v.beneficiary_id for v in issued}) == 5
    pdf = batch_files.letters_pdf_for_download(worker, batch)
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 5


def test_an_expired_lease_is_taken_over_and_the_old_worker_stops(app, world, worker):
    batch = confirmed(worker, world, 3)
    assert jobs.claim_batch("first") == batch.id
    # a live lease keeps others away
    assert jobs.claim_batch("second") is None
    batch.lease_until = clock.now() - timedelta(seconds=1)
    db.session.commit()
    assert jobs.claim_batch("second") == batch.id
    assert jobs.run_batch(batch.id, "first") == "lost"
    db.session.refresh(batch)
    assert batch.processed == 0 and batch.lease_owner == "second"
    assert jobs.run_batch(batch.id, "second") == "done"
    assert len(vouchers_of(batch)) == 3


def test_a_batch_that_keeps_failing_is_marked_failed_and_can_be_requeued(
    app, world, worker, monkeypatch
):
    batch = confirmed(worker, world, 2)

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    real_issue = batch_processing.issue_voucher
    monkeypatch.setattr(batch_processing, "issue_voucher", broken)
    jobs.run_pending("w")
    db.session.refresh(batch)
    assert batch.status == "failed" and batch.attempts == jobs.MAX_ATTEMPTS
    assert batch.error == "Errore durante l'elaborazione (RuntimeError)."
    assert jobs.claim_batch("w") is None

    monkeypatch.setattr(batch_processing, "issue_voucher", real_issue)
    with pytest.raises(Conflict):
        batches.requeue_batch(worker, make_batch(worker, world, [f.make_beneficiary()]))
    db.session.rollback()
    batches.requeue_batch(worker, batch)
    db.session.commit()
    assert jobs.run_pending("w") == 1
    db.session.refresh(batch)
    assert (batch.status, batch.issued, batch.error) == ("done", 2, None)


def test_a_worker_that_died_without_a_word_is_retried_then_failed(app, world, worker):
    batch = confirmed(worker, world, 1)
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        assert jobs.claim_batch(f"w{attempt}") == batch.id
        batch.lease_until = clock.now() - timedelta(seconds=1)  # it died holding the lease
        db.session.commit()
    assert jobs.claim_batch("last") is None
    db.session.refresh(batch)
    assert batch.status == "failed" and batch.issued == 0


def test_delete_letters_after_printing(app, world, worker):
    batch = confirmed(worker, world, 1)
    jobs.run_pending()
    batch_files.delete_letters(worker, batch)
    db.session.commit()
    assert not batch_files.has_letters(batch)
    assert len(vouchers_of(batch)) == 1


def test_worker_command_once(app, runner, world, worker):
    batch = confirmed(worker, world, 2)
    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "Lotti elaborati: 1." in result.output
    db.session.refresh(batch)
    assert batch.status == "done" and batch.issued == 2


def test_batch_percent(app):
    batch = IssueBatch(status="running", planned=8, processed=2)
    assert batch.percent == 25
    assert IssueBatch(status="queued", planned=0, processed=0).percent == 0
    assert IssueBatch(status="done", planned=0, processed=0).percent == 100


def test_budget_effect_of_a_running_batch_counts_only_what_is_left(app, world, worker):
    batch = confirmed(worker, world, 4)
    batch.processed = 1
    effect = batches.budget_effect(batch)
    assert effect.batch_cents == 3 * 50_000
    assert effect.available_cents == effect.budget_cents - effect.committed_cents


def test_a_stopping_worker_hands_the_batch_back_after_its_chunk(app, world, worker):
    batch = confirmed(worker, world, 2)
    stop = threading.Event()
    stop.set()
    assert jobs.claim_batch("leaving") == batch.id
    assert jobs.run_batch(batch.id, "leaving", stop) == "stopped"
    db.session.refresh(batch)
    assert (batch.status, batch.lease_owner, batch.attempts) == ("running", None, 0)
    assert jobs.run_pending("next") == 1
    db.session.refresh(batch)
    assert batch.status == "done" and batch.issued == 2


# Real commits from several connections (PostgreSQL)


def _confirmed_world(app, batch_count, rows_each):
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(face_value_cents=50_000, budget_cents=10_000_000)
        user = f.make_user("social_worker")
        ids = [confirmed(f.actor(user), scheme, rows_each).id for _ in range(batch_count)]
        return scheme.id, ids


def _batch_results(app, ids):
    with app.app_context():
        found = {}
        for batch_id in ids:
            batch = db.session.get(IssueBatch, batch_id)
            found[batch_id] = (batch.status, batch.issued, len(vouchers_of(batch)))
        people = db.session.execute(select(func.count(func.distinct(Voucher.beneficiary_id))))
        return found, people.scalar_one()


@pytest.mark.postgres_only
def test_concurrent_workers_share_the_batches_and_issue_each_row_once(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path, BATCH_CHUNK_SIZE=3)
    try:
        _scheme_id, ids = _confirmed_world(app, batch_count=3, rows_each=7)

        def work():
            with app.app_context():
                jobs.run_pending()

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        found, people = _batch_results(app, ids)
        assert found == {batch_id: ("done", 7, 7) for batch_id in ids}
        assert people == 21
    finally:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.postgres_only
def test_the_web_process_thread_runs_a_confirmed_batch(postgres_url, tmp_path):
    app = make_app(postgres_url, tmp_path, BATCH_WORKER_THREAD=True, BATCH_CHUNK_SIZE=2)
    try:
        _scheme_id, ids = _confirmed_world(app, batch_count=1, rows_each=5)
        jobs.wake(app)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found, _people = _batch_results(app, ids)
            if found[ids[0]][0] == "done":
                break
            time.sleep(0.2)
        assert found == {ids[0]: ("done", 5, 5)}
    finally:
        jobs.stop(app, timeout=30)
        with app.app_context():
            db.engine.dispose()
