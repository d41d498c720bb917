"""The pages: a codice fiscale that disagrees with the name asks for a confirmation before
saving; the bulk import goes upload -> dry run -> confirm -> bulk issuance."""

import io
from datetime import date

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.social_world import assert_no_fiscal_code_in_urls
from tests.web.test_social_beneficiaries import registration
from voucher.extensions import db
from voucher.models import Beneficiary, BeneficiaryImport

CONFIRM = "Confermo che i dati sono corretti"


@pytest.fixture
def staff(client, app):
    f.make_ente()
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def find(code: str):
    return db.session.execute(
        select(Beneficiary).where(Beneficiary.fiscal_code == code)
    ).scalar_one_or_none()


def test_a_mans_code_for_anna_neri_is_saved_only_once_confirmed(client, staff):
    code = f.fiscal_code_for(date(1950, 6, 2), "M", "Rossi", "Mario")
    data = registration(code, first_name="Anna", last_name="Neri")
    refused = client.post("/servizi/beneficiari/nuovo", data=data)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and find(code) is None
    assert "Il codice fiscale non corrisponde ai dati della persona" in html
    assert "Le lettere del cognome nel codice fiscale (RSS) non corrispondono a «Neri»" in html
    assert "Il codice fiscale indica un uomo, ma «Anna» è di solito un nome femminile." in html
    assert "nato/a il 02/06/1950, sesso Maschio" in html
    assert CONFIRM in html and 'name="confirm_mismatch"' in html
    assert "Spuntare la casella per confermare" in html
    assert_no_fiscal_code_in_urls(html)

    saved = client.post("/servizi/beneficiari/nuovo", data={**data, "confirm_mismatch": "y"})
    assert saved.status_code == 302
    person = find(code)
    assert (person.first_name, person.sex) == ("Anna", "M")


def test_a_matching_code_asks_nothing(client, staff):
    code = f.fiscal_code_for(date(1941, 3, 15), "F", "Neri", "Carla")
    response = client.post("/servizi/beneficiari/nuovo", data=registration(code))
    assert response.status_code == 302 and find(code) is not None


def test_an_edit_that_makes_the_names_disagree_asks_for_the_tick(client, staff):
    person = f.make_beneficiary(first_name="Carla", last_name="Neri", sex="F")
    url = f"/servizi/beneficiari/{person.id}/modifica"
    data = registration("", first_name="Carla", last_name="Bianchi")
    refused = client.post(url, data=data)
    assert refused.status_code == 422 and CONFIRM in refused.get_data(as_text=True)
    db.session.refresh(person)
    assert person.last_name == "Neri"
    assert client.post(url, data={**data, "confirm_mismatch": "y"}).status_code == 302
    db.session.refresh(person)
    assert person.last_name == "Bianchi"
    # Confirmed once: a later edit of something else does not ask again.
    again = client.post(url, data={**data, "phone": "055 999"})
    assert again.status_code == 302


def upload(client, text: str):
    return client.post(
        "/servizi/importazioni",
        data={"file": (io.BytesIO(text.encode("utf-8-sig")), "persone.csv")},
        content_type="multipart/form-data",
    )


def test_upload_dry_run_confirm_then_bulk_issuance(client, staff):
    page = client.get("/servizi/importazioni").get_data(as_text=True)
    assert 'href="/servizi/importazioni/modello.csv"' in page
    template = client.get("/servizi/importazioni/modello.csv")
    assert template.data.decode("utf-8-sig").startswith("codice_fiscale;nome;cognome;")
    assert "/servizi/importazioni" in client.get("/servizi/lotti").get_data(as_text=True)

    carla = f.fiscal_code_for(f.unique_birth_date(40), "F", "Neri", "Carla")
    mario = f.fiscal_code_for(f.unique_birth_date(40), "M", "Rossi", "Mario")
    response = upload(
        client,
        "codice_fiscale;nome;cognome;comune_istat;categorie\r\n"
        f"{carla};Carla;Neri;048017;Minore\r\n"
        f"{mario};Anna;Neri;048017;\r\n"
        f"{carla};Carla;Neri;048017;\r\n",
    )
    assert response.status_code == 302
    imported = db.session.execute(select(BeneficiaryImport)).scalar_one()
    url = f"/servizi/importazioni/{imported.id}"
    assert response.headers["Location"].endswith(url)

    dry_run = client.get(url)
    html = dry_run.get_data(as_text=True)
    assert dry_run.headers["Cache-Control"] == "no-store"
    assert "Carla Neri" in html and carla in html
    assert "Riga ripetuta: Stesso codice fiscale della riga 2." in html
    assert "1 riga con un codice fiscale da verificare" in html
    assert "Ho verificato le righe con avviso" in html
    assert_no_fiscal_code_in_urls(html)
    assert find(carla) is None

    confirmed = client.post(f"{url}/conferma", data={"include_warnings": "y"})
    assert confirmed.status_code == 302
    assert find(carla).categories == ["minor"] and find(mario).first_name == "Anna"
    done = client.get(url).get_data(as_text=True)
    assert "2 persone registrate" in done and 'href="/servizi/lotti"' in done
    assert carla not in done  # the file's codes are gone; names link to the people's pages
    assert f'href="/servizi/beneficiari/{find(carla).id}"' in done

    codes = client.post(f"{url}/codici.csv")
    assert codes.headers["Cache-Control"] == "no-store"
    assert codes.data.decode("utf-8-sig").split("\r\n")[:3] == [
        "codice_fiscale;note",
        f"{carla};",
        f"{mario};",
    ]
    assert client.get(f"{url}/codici.csv").status_code == 405

    other = f.make_user("social_worker")
    client.post("/esci")
    f.login(client, other)
    assert client.get(url).status_code == 404
    assert client.post(f"{url}/codici.csv").status_code == 404


def test_confirm_without_the_tick_leaves_the_doubtful_rows_out(client, staff):
    mario = f.fiscal_code_for(f.unique_birth_date(40), "M", "Rossi", "Mario")
    upload(client, f"codice_fiscale;nome;cognome;comune\r\n{mario};Anna;Neri;Firenze\r\n")
    imported = db.session.execute(select(BeneficiaryImport)).scalar_one()
    client.post(f"/servizi/importazioni/{imported.id}/conferma", data={})
    assert find(mario) is None
    html = client.get(f"/servizi/importazioni/{imported.id}").get_data(as_text=True)
    assert "Codice fiscale da verificare" in html


def test_discard_and_a_bad_file(client, staff):
    bad = upload(client, "nome;cognome\r\nCarla;Neri\r\n")
    assert bad.status_code == 422
    assert "Mancano le colonne" in bad.get_data(as_text=True)
    carla = f.fiscal_code_for(f.unique_birth_date(40), "F", "Neri", "Carla")
    upload(client, f"codice_fiscale;nome;cognome;comune\r\n{carla};Carla;Neri;Firenze\r\n")
    imported = db.session.execute(select(BeneficiaryImport)).scalar_one()
    response = client.post(f"/servizi/importazioni/{imported.id}/annulla")
    assert response.status_code == 302
    db.session.refresh(imported)
    assert imported.status == "discarded" and find(carla) is None
