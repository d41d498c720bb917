"""Who may see the social workers' pages, and that no codice fiscale ever goes in a URL."""

import pytest

from tests import factories as f
from tests.web.social_world import assert_no_fiscal_code_in_urls, make_social_world


def pages(world) -> list[str]:
    person, voucher, batch = world.person.id, world.voucher.id, world.batch.id
    return [
        "/servizi/beneficiari",
        "/servizi/beneficiari/nuovo",
        f"/servizi/beneficiari/{person}",
        f"/servizi/beneficiari/{person}/modifica",
        f"/servizi/beneficiari/{person}/emetti",
        f"/servizi/beneficiari/{person}/emetti?misura={world.scheme.id}",
        "/servizi/buoni",
        f"/servizi/buoni/{voucher}",
        f"/servizi/buoni/{voucher}/revoca",
        f"/servizi/buoni/{voucher}/sospendi",
        f"/servizi/buoni/{voucher}/riattiva",
        f"/servizi/buoni/{voucher}/sostituisci",
        f"/servizi/buoni/{voucher}/nuovo-pin",
        f"/servizi/buoni/{voucher}/movimenti/{world.entry.id}/storno",
        f"/servizi/buoni/{voucher}/lettera.pdf",
        "/servizi/lotti",
        "/servizi/lotti/modello.csv",
        f"/servizi/lotti/{batch}",
        f"/servizi/lotti/{batch}/avanzamento.json",
    ]


@pytest.fixture
def world(app):
    return make_social_world()


@pytest.mark.parametrize("role", ["social_worker", "admin"])
def test_every_page_renders_for_staff_without_a_fiscal_code_in_any_url(client, world, role):
    f.login(client, f.make_user(role))
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert html.count("<h1") == 1, url
            assert_no_fiscal_code_in_urls(html)


@pytest.mark.parametrize("role", ["provider", "auditor"])
def test_other_roles_are_refused(client, world, role):
    user = f.make_user(role, provider=world.provider if role == "provider" else None)
    f.login(client, user)
    for url in pages(world):
        assert client.get(url).status_code == 403, url
    posts = [
        "/servizi/beneficiari",
        f"/servizi/beneficiari/{world.person.id}/emetti",
        f"/servizi/buoni/{world.voucher.id}/revoca",
        f"/servizi/buoni/{world.voucher.id}/lettera-con-pin",
        f"/servizi/lotti/{world.batch.id}/conferma",
    ]
    for url in posts:
        assert client.post(url, data={"reason": "x"}).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for url in pages(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/accesso"), url
        assert_no_fiscal_code_in_urls("", response.headers["Location"])


def test_unknown_ids_are_404(client, world):
    f.login(client, f.make_user("social_worker"))
    for url in [
        "/servizi/beneficiari/999999",
        "/servizi/beneficiari/999999/emetti",
        "/servizi/buoni/999999",
        "/servizi/buoni/999999/revoca",
        f"/servizi/buoni/{world.voucher.id}/movimenti/999999/storno",
        "/servizi/lotti/999999",
    ]:
        assert client.get(url).status_code == 404, url
