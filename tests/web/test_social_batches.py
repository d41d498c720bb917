"""Bulk issuance from the pages: upload, dry run, confirmation, progress and downloads."""

import csv
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests import factories as f
from tests.web.social_world import assert_no_fiscal_code_in_urls
from voucher import jobs
from voucher.extensions import db
from voucher.models import IssueBatch, Voucher
from voucher.services import SYSTEM, batch_processing, batches, issuance


@pytest.fixture
def scheme(app):
    f.make_ente()
    return f.make_scheme(
        face_value_cents=50_000, budget_cents=100_000, max_active_per_beneficiary=1
    )


@pytest.fixture
def staff(client, scheme):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def upload(client, scheme, text: str, filename="lotto.csv"):
    return client.post(
        "/servizi/lotti",
        data={"scheme_id": str(scheme.id), "file": (io.BytesIO(text.encode()), filename)},
        content_type="multipart/form-data",
    )


def batch_id_of(response) -> int:
    return int(re.search(r"/servizi/lotti/(\d+)$", response.headers["Location"]).group(1))


def test_upload_page_and_template(client, scheme, staff):
    html = client.get("/servizi/lotti").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in html and scheme.name in html
    template = client.get("/servizi/lotti/modello.csv")
    assert template.mimetype == "text/csv"
    assert template.data.decode("utf-8-sig") == "codice_fiscale;note\r\n"


def test_dry_run_table_then_confirm_process_and_download(client, scheme, staff):
    holder = f.make_beneficiary()
    issuance.issue_voucher(SYSTEM, scheme, holder)  # half the budget, and holder's one voucher
    db.session.commit()
    first, second = f.make_beneficiary(), f.make_beneficiary()
    text = "\n".join(
        [
            "codice_fiscale;note",
            f"{first.fiscal_code};consegna a mano",
            "NONVALIDO",
            f.fiscal_code_for(f.unique_birth_date(60), "M"),
            first.fiscal_code,
            holder.fiscal_code,
            second.fiscal_code,
        ]
    )
    response = upload(client, scheme, text)
    assert response.status_code == 302
    batch_id = batch_id_of(response)
    html = client.get(f"/servizi/lotti/{batch_id}").get_data(as_text=True)
    for expected in (
        "Righe nel file: 6. Buoni che verrebbero emessi: 1. Righe rifiutate: 5.",
        "Codice fiscale non valido",
        "Beneficiario non registrato",
        "Stesso codice fiscale della riga 2.",
        "Buoni attivi per questa misura: 1 su un massimo di 1.",
        "Budget esaurito: Il budget residuo della misura, tolte le righe precedenti del file",
        "consegna a mano",
        "Impegno di questo lotto",
        "Conferma ed emetti 1 buono",
    ):
        assert expected in html, expected
    assert first.fiscal_code in html  # in the table, never in a URL
    assert_no_fiscal_code_in_urls(html)

    confirm = client.post(f"/servizi/lotti/{batch_id}/conferma", follow_redirects=True)
    page = confirm.get_data(as_text=True)
    assert "i buoni vengono emessi in background" in page
    assert '<meta http-equiv="refresh" content="3">' in page
    assert 'aria-live="polite"' in page and "Elaborate 0 righe su 1" in page
    assert "Interrompi l'aggiornamento automatico" in page
    still = client.get(f"/servizi/lotti/{batch_id}?auto=0").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in still
    progress = client.get(f"/servizi/lotti/{batch_id}/avanzamento.json").get_json()
    assert progress == {
        "status": "queued",
        "total": 6,
        "planned": 1,
        "processed": 0,
        "issued": 0,
        "refused": 5,
        "percent": 0,
    }

    assert jobs.run_pending() == 1
    progress = client.get(f"/servizi/lotti/{batch_id}/avanzamento.json").get_json()
    assert progress["status"] == "done" and progress["issued"] == 1 and progress["percent"] == 100
    done = client.get(f"/servizi/lotti/{batch_id}").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in done
    assert "Lettere con i PIN (PDF)" in done and "Codici per la spedizione" in done
    assert_no_fiscal_code_in_urls(done)

    issued = db.session.execute(select(Voucher).where(Voucher.batch_id == batch_id)).scalar_one()
    assert issued.beneficiary_id == first.id

    pdf = client.get(f"/servizi/lotti/{batch_id}/lettere.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Cache-Control"] == "no-store"
    assert "attachment" in pdf.headers["Content-Disposition"]
    assert issued.code in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)

    codes = client.get(f"/servizi/lotti/{batch_id}/codici.csv")
    assert codes.status_code == 200 and codes.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(codes.data.decode("utf-8-sig")), delimiter=";"))
    assert table[0][0] == "codice_buono" and not any("pin" in h.lower() for h in table[0])
    assert [row[0] for row in table[1:]] == [issued.code]
    assert table[1][1] == first.last_name and table[1][-1] == "consegna a mano"
    assert not re.search(r"(?<!\d)\d{6}(?!\d)", codes.data.decode("utf-8-sig"))  # no PIN


def test_rows_refused_at_confirmation_are_reported(client, scheme, staff):
    people = [f.make_beneficiary() for _ in range(2)]
    response = upload(client, scheme, "\n".join(p.fiscal_code for p in people))
    batch_id = batch_id_of(response)
    # the budget goes elsewhere between the dry run and the confirmation
    issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    db.session.commit()
    html = client.get(f"/servizi/lotti/{batch_id}").get_data(as_text=True)
    assert "Il budget è cambiato dopo la verifica" in html
    client.post(f"/servizi/lotti/{batch_id}/conferma")
    jobs.run_pending()
    done = client.get(f"/servizi/lotti/{batch_id}").get_data(as_text=True)
    assert "Rifiutata alla conferma" in done
    assert "Elaborate 2 righe su 2: 1 buoni emessi, 1 righe rifiutate" in done


def test_downloads_are_for_staff_only(client, scheme, staff):
    person = f.make_beneficiary()
    batch = batches.create_batch(SYSTEM, scheme, person.fiscal_code.encode())
    batches.confirm_batch(SYSTEM, batch)
    db.session.commit()
    jobs.run_pending()
    urls = [f"/servizi/lotti/{batch.id}/lettere.pdf", f"/servizi/lotti/{batch.id}/codici.csv"]
    for url in urls:
        assert client.get(url).status_code == 200
    client.post("/esci")
    for url in urls:
        assert client.get(url).status_code == 302
    provider = f.make_provider()
    for user in (f.make_user("auditor"), f.make_user("provider", provider=provider)):
        f.login(client, user)
        for url in urls:
            assert client.get(url).status_code == 403
        client.post("/esci")


def test_documents_of_an_unfinished_batch_are_404(client, scheme, staff):
    response = upload(client, scheme, f.make_beneficiary().fiscal_code)
    batch_id = batch_id_of(response)
    for url in ("lettere.pdf", "codici.csv"):
        assert client.get(f"/servizi/lotti/{batch_id}/{url}").status_code == 404


def test_delete_the_letters_after_printing(client, scheme, staff):
    response = upload(client, scheme, f.make_beneficiary().fiscal_code)
    batch_id = batch_id_of(response)
    client.post(f"/servizi/lotti/{batch_id}/conferma")
    jobs.run_pending()
    page = client.post(f"/servizi/lotti/{batch_id}/elimina-lettere", follow_redirects=True)
    assert "PDF delle lettere eliminato" in page.get_data(as_text=True)
    assert client.get(f"/servizi/lotti/{batch_id}/lettere.pdf").status_code == 404
    assert client.get(f"/servizi/lotti/{batch_id}/codici.csv").status_code == 200


def test_discard_a_draft(client, scheme, staff):
    batch_id = batch_id_of(upload(client, scheme, f.make_beneficiary().fiscal_code))
    response = client.post(f"/servizi/lotti/{batch_id}/annulla", follow_redirects=True)
    assert "Lotto annullato" in response.get_data(as_text=True)
    assert db.session.get(IssueBatch, batch_id) is None


def test_a_failed_batch_can_be_resumed_from_the_page(client, scheme, staff):
    batch_id = batch_id_of(upload(client, scheme, f.make_beneficiary().fiscal_code))
    client.post(f"/servizi/lotti/{batch_id}/conferma")
    batch = db.session.get(IssueBatch, batch_id)
    batch_processing.fail_batch(batch, "Errore durante l'elaborazione (RuntimeError).")
    db.session.commit()
    html = client.get(f"/servizi/lotti/{batch_id}").get_data(as_text=True)
    assert "Elaborazione interrotta" in html and "Riprendi l'elaborazione" in html
    client.post(f"/servizi/lotti/{batch_id}/riprendi")
    jobs.run_pending()
    db.session.refresh(batch)
    assert batch.status == "done" and batch.issued == 1


@pytest.mark.parametrize(
    "content, filename, message",
    [
        ("", "vuoto.csv", "Il file è vuoto."),
        ("PK\x03\x04", "lotto.xlsx", "foglio di calcolo"),
        ("note;altro\nx;y\n", "lotto.csv", "Manca la colonna"),
    ],
)
def test_unusable_files_are_explained(client, scheme, staff, content, filename, message):
    response = upload(client, scheme, content, filename)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_upload_needs_an_active_scheme_and_a_file(client, scheme, staff):
    html = client.post(
        "/servizi/lotti", data={"scheme_id": ""}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "Scegliere il file da caricare." in html
    draft = f.make_scheme(status="draft")
    response = upload(client, draft, "X")
    assert response.status_code == 200
    assert "Scegliere una misura attiva." in response.get_data(as_text=True)
