"""Who may use the providers' pages: provider operators only; everyone else is refused,
and anonymous visitors are sent to sign in."""

import pytest

from tests import factories as f
from tests.web.provider_world import make_provider_world


@pytest.fixture
def world(client):
    return make_provider_world(client)


def get_pages(entry_id: int) -> list[str]:
    return [
        "/fornitore/",
        "/fornitore/prestazioni",
        "/fornitore/prestazioni?dal=2026-01-01&servizio=A1",
        "/fornitore/prestazioni.csv",
        f"/fornitore/prestazioni/{entry_id}/ricevuta",
    ]


POST_PAGES = ["/fornitore/", "/fornitore/anteprima", "/fornitore/conferma"]


def test_a_provider_operator_sees_every_page_with_one_h1(world):
    entry = world.redeem_direct(world.voucher, quantity=1)
    for url in get_pages(entry.id):
        response = world.client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "no-store"
        if response.mimetype == "text/html":
            assert response.get_data(as_text=True).count("<h1") == 1, url


def test_the_navigation_leads_to_the_two_areas(world):
    html = world.client.get("/").get_data(as_text=True)
    assert 'href="/fornitore/"' in html and 'href="/fornitore/prestazioni"' in html


@pytest.mark.parametrize("role", ["admin", "social_worker", "auditor"])
def test_other_roles_are_refused(world, role):
    entry = world.redeem_direct(world.voucher, quantity=1)
    world.client.post("/esci")
    f.login(world.client, f.make_user(role))
    for url in get_pages(entry.id):
        assert world.client.get(url).status_code == 403, url
    for url in POST_PAGES:
        response = world.client.post(url, data={"voucher": world.voucher.code})
        assert response.status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(world):
    entry = world.redeem_direct(world.voucher, quantity=1)
    world.client.post("/esci")
    for url in get_pages(entry.id):
        response = world.client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/accesso"), url
    for url in POST_PAGES:
        response = world.client.post(url, data={"voucher": world.voucher.code})
        assert response.status_code == 302, url
        assert world.voucher.code not in response.headers["Location"]


def test_another_providers_receipt_is_not_found(world):
    theirs = world.redeem_direct(world.voucher, quantity=1, provider=world.other)
    assert world.client.get(f"/fornitore/prestazioni/{theirs.id}/ricevuta").status_code == 404
    assert world.client.get("/fornitore/prestazioni/999999/ricevuta").status_code == 404
    assert world.client.get(f"/fornitore/prestazioni/{2**40}/ricevuta").status_code == 404


def test_the_pages_speak_english_when_chosen(world):
    world.client.post("/lingua/en", data={"next": "/fornitore/"})
    html = world.client.get("/fornitore/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Find the voucher" in html and "Upload a photo of the QR code" in html
    card = world.card(world.voucher.code)
    assert "Beneficiary (initials)" in card and "Service delivered" in card
