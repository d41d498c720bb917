"""Issuing a voucher from the pages, the voucher's page, and the actions on it."""

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.voucher_states import CLOSED, RESET_PIN_REFUSED, close
from tests.web.social_world import (
    assert_no_fiscal_code_in_urls,
    form_token,
    make_social_world,
    pin_on_page,
)
from voucher.extensions import db
from voucher.models import LedgerEntry, Voucher
from voucher.services import codes
from voucher.services.issuance import pin_pepper


@pytest.fixture
def world(app):
    return make_social_world()


@pytest.fixture
def staff(client, world):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def pin_works(voucher, pin: str) -> bool:
    db.session.refresh(voucher)
    return codes.pin_matches(pin_pepper(), voucher.pin_salt, pin, voucher.pin_hash)


def count_vouchers(person) -> int:
    return db.session.execute(
        select(func.count()).select_from(Voucher).where(Voucher.beneficiary_id == person.id)
    ).scalar_one()


# Issuing


def test_issue_shows_every_rule_then_issues_and_shows_the_pin_once(client, world, staff):
    person = f.make_beneficiary(isee_cents=1_500_000)
    scheme = f.make_scheme(
        face_value_cents=40_000,
        max_active_per_beneficiary=1,
        copay_bands=[
            {"isee_max_cents": 1_000_000, "coverage_percent": 100},
            {"isee_max_cents": 2_000_000, "coverage_percent": 80},
        ],
    )
    url = f"/servizi/beneficiari/{person.id}/emetti?misura={scheme.id}"
    html = client.get(url).get_data(as_text=True)
    for text in (
        "Misura attiva",
        "ISEE valido",
        "Fascia ISEE individuata",
        "Residente in un Comune dell&#39;ente",
        "Buoni attivi per questa misura: 0 su un massimo di 1",
        "Budget residuo",
        "copre il 80% del costo",
        "il buono paga 16,00 €, la famiglia 4,00 €",
        "Conferma ed emetti il buono",
    ):
        assert text in html, text

    response = client.post(
        f"/servizi/beneficiari/{person.id}/emetti",
        data={"scheme_id": scheme.id, "token": form_token(html)},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    voucher = db.session.execute(
        select(Voucher).where(Voucher.beneficiary_id == person.id)
    ).scalar_one()
    assert voucher.code in page and voucher.coverage_percent == 80
    assert "Il PIN è mostrato solo ora" in page
    assert pin_works(voucher, pin_on_page(page))
    assert_no_fiscal_code_in_urls(page)

    # The same form sent again (a reload, a double click) issues nothing more.
    again = client.post(
        f"/servizi/beneficiari/{person.id}/emetti",
        data={"scheme_id": scheme.id, "token": form_token(html)},
        follow_redirects=True,
    )
    assert "già stata inviata" in again.get_data(as_text=True)
    assert count_vouchers(person) == 1
    # No page shows that PIN again.
    assert pin_on_page(page) not in client.get(f"/servizi/buoni/{voucher.id}").get_data(
        as_text=True
    )


def test_a_refusal_shows_the_italian_reason(client, world, staff):
    scheme = f.make_scheme(eligible_categories=["disabled"])
    person = world.person
    html = client.get(f"/servizi/beneficiari/{person.id}/emetti?misura={scheme.id}").get_data(
        as_text=True
    )
    assert "Non soddisfatta:" in html
    assert "Nessuna delle categorie del beneficiario è ammessa dalla misura" in html
    assert "Il buono non può essere emesso" in html
    assert "Conferma ed emetti" not in html
    # Sent anyway (the rules may change between the two pages): the service refuses.
    from voucher.services import form_tokens

    token = form_tokens.new_token(staff.id, "issue", f"beneficiary:{person.id}")
    db.session.commit()
    before = count_vouchers(person)
    response = client.post(
        f"/servizi/beneficiari/{person.id}/emetti",
        data={"scheme_id": scheme.id, "token": token},
        follow_redirects=True,
    )
    page = response.get_data(as_text=True)
    assert "Buono non emesso: Nessuna delle categorie del beneficiario" in page
    assert count_vouchers(person) == before


def test_budget_and_limit_refusals_on_the_issue_page(client, world, staff):
    scheme = f.make_scheme(face_value_cents=50_000, budget_cents=40_000)
    html = client.get(f"/servizi/beneficiari/{world.person.id}/emetti?misura={scheme.id}").get_data(
        as_text=True
    )
    assert "Budget residuo 400,00 €, il buono ne impegna 500,00 €" in html
    assert "Conferma ed emetti" not in html


def test_letters_with_and_without_pin(client, world, staff):
    voucher = world.voucher
    response = client.get(f"/servizi/buoni/{voucher.id}/lettera.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    with_pin = client.post(f"/servizi/buoni/{voucher.id}/lettera-con-pin", data={"pin": world.pin})
    assert with_pin.status_code == 200 and with_pin.mimetype == "application/pdf"
    assert with_pin.headers["Cache-Control"] == "no-store"
    wrong = "000000" if world.pin != "000000" else "111111"
    refused = client.post(
        f"/servizi/buoni/{voucher.id}/lettera-con-pin", data={"pin": wrong}, follow_redirects=True
    )
    assert refused.mimetype == "text/html"
    assert "Il PIN non corrisponde" in refused.get_data(as_text=True)


# The voucher's page


def test_voucher_page_shows_balance_in_units_ledger_and_audit_trail(client, world, staff):
    html = client.get(f"/servizi/buoni/{world.voucher.id}").get_data(as_text=True)
    # 500,00 € at 20,00 € an hour, two hours spent
    assert "25 ore (500,00 €)" in html and "23 ore (460,00 €)" in html
    assert world.provider.name in html and "40,00 €" in html
    assert "Storna" in html
    assert "Emissione" in html and "Prestazione registrata" in html
    assert world.person.full_name in html
    assert f'href="/servizi/beneficiari/{world.person.id}"' in html


def test_find_a_voucher_by_code(client, world, staff):
    response = client.post("/servizi/buoni", data={"code": world.voucher.code.lower()})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/servizi/buoni/{world.voucher.id}")
    html = client.post("/servizi/buoni", data={"code": "NOPE"}).get_data(as_text=True)
    assert "Nessun buono con questo codice" in html


# Actions


def test_revoke_needs_a_reason(client, world, staff):
    url = f"/servizi/buoni/{world.voucher.id}/revoca"
    html = client.post(url, data={"reason": " "}).get_data(as_text=True)
    assert "Indicare il motivo" in html
    db.session.refresh(world.voucher)
    assert world.voucher.status == "active"
    response = client.post(url, data={"reason": "Trasferito fuori ambito"}, follow_redirects=True)
    assert "Buono revocato." in response.get_data(as_text=True)
    db.session.refresh(world.voucher)
    assert world.voucher.status == "revoked"
    assert world.voucher.revoke_reason == "Trasferito fuori ambito"
    # a second revocation is refused with the service's reason
    again = client.post(url, data={"reason": "di nuovo"}, follow_redirects=True)
    assert "Il buono è già revocato" in again.get_data(as_text=True)


def test_replace_a_lost_voucher_for_its_balance(client, world, staff):
    old = world.voucher
    url = f"/servizi/buoni/{old.id}/sostituisci"
    html = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"reason": "Smarrito", "token": form_token(html)})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    new = db.session.execute(select(Voucher).where(Voucher.replaces_id == old.id)).scalar_one()
    db.session.refresh(old)
    assert old.status == "revoked"
    assert new.value_cents == old.balance_cents == 46_000
    assert new.code in page and old.code in page
    assert pin_works(new, pin_on_page(page))
    replay = client.post(url, data={"reason": "Smarrito", "token": form_token(html)})
    assert replay.status_code == 302


def test_reset_pin_shows_the_new_pin_once(client, world, staff):
    url = f"/servizi/buoni/{world.voucher.id}/nuovo-pin"
    html = client.get(url).get_data(as_text=True)
    page = client.post(url, data={"reason": "PIN dimenticato", "token": form_token(html)}).get_data(
        as_text=True
    )
    new_pin = pin_on_page(page)
    assert "Stampa la lettera con il PIN" in page
    assert pin_works(world.voucher, new_pin)
    assert new_pin == world.pin or not pin_works(world.voucher, world.pin)


@pytest.mark.parametrize("status", sorted(CLOSED))
def test_reset_pin_is_refused_on_a_voucher_that_can_no_longer_be_spent(
    client, world, staff, status
):
    # The form was opened while the voucher was active and is sent after it closed (or is
    # crafted): the service refuses, whatever the page offered.
    url = f"/servizi/buoni/{world.voucher.id}/nuovo-pin"
    token = form_token(client.get(url).get_data(as_text=True))
    voucher = close(world.voucher, world.provider, status)
    digest = voucher.pin_hash
    response = client.post(
        url, data={"reason": "PIN dimenticato", "token": token}, follow_redirects=True
    )
    page = response.get_data(as_text=True)
    assert response.status_code < 500
    assert RESET_PIN_REFUSED in page
    assert 'id="pin"' not in page and "Nuovo PIN creato" not in page
    db.session.refresh(voucher)
    assert voucher.pin_hash == digest


def test_suspend_then_reactivate(client, world, staff):
    base = f"/servizi/buoni/{world.voucher.id}"
    client.post(f"{base}/sospendi", data={"reason": "Verifica in corso"})
    db.session.refresh(world.voucher)
    assert world.voucher.status == "suspended"
    html = client.get(base).get_data(as_text=True)
    assert "Riattiva" in html and "Sospeso" in html
    client.post(f"{base}/riattiva", data={"reason": "Verifica conclusa"})
    db.session.refresh(world.voucher)
    assert world.voucher.status == "active"
    trail = client.get(base).get_data(as_text=True)
    assert "Verifica in corso" in trail and "Verifica conclusa" in trail


def test_reverse_a_redemption(client, world, staff):
    url = f"/servizi/buoni/{world.voucher.id}/movimenti/{world.entry.id}/storno"
    assert "Indicare il motivo" in client.post(url, data={"reason": ""}).get_data(as_text=True)
    response = client.post(url, data={"reason": "Prestazione non resa"}, follow_redirects=True)
    assert "Prestazione stornata: 40,00 € tornano sul buono." in response.get_data(as_text=True)
    db.session.refresh(world.voucher)
    assert world.voucher.balance_cents == 50_000
    reversal = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.reverses_id == world.entry.id)
    ).scalar_one()
    assert reversal.reason == "Prestazione non resa"
    page = client.get(f"/servizi/buoni/{world.voucher.id}").get_data(as_text=True)
    assert "Stornata" in page and "Prestazione non resa" in page
    again = client.post(url, data={"reason": "ancora"}, follow_redirects=True)
    assert "già stato stornato" in again.get_data(as_text=True)


def test_a_reversal_entry_cannot_be_reversed(client, world, staff):
    client.post(
        f"/servizi/buoni/{world.voucher.id}/movimenti/{world.entry.id}/storno",
        data={"reason": "Errore"},
    )
    reversal = db.session.execute(
        select(LedgerEntry).where(LedgerEntry.reverses_id == world.entry.id)
    ).scalar_one()
    url = f"/servizi/buoni/{world.voucher.id}/movimenti/{reversal.id}/storno"
    assert client.get(url).status_code == 404
