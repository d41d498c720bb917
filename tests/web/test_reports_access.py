"""Who may open which reports page: admin, auditor and ragioneria (finance) read everything,
the admin approves and generates, only the ragioneria pays, a provider reads its own
statements and nothing else, a social worker nothing; anonymous visitors sign in first. Bad
periods are an Italian message, never a 5xx."""

import pytest

from tests import factories as f
from tests.web.reports_world import MONTH, YEAR, build

PAGES = [
    "/rendiconti/",
    "/rendiconti/cruscotto",
    f"/rendiconti/cruscotto?year={YEAR}",
    f"/rendiconti/fondi?year={YEAR}",
    f"/rendiconti/fondo-poverta?year={YEAR}",
    f"/rendiconti/fsc?year={YEAR}",
    "/rendiconti/fsc",
    "/rendiconti/fornitori",
    "/rendiconti/fornitori/{provider}?month=" + MONTH,
    "/rendiconti/fornitori/{provider}",
    "/rendiconti/siuss",
    "/rendiconti/siuss/flussi?month=" + MONTH,
    "/rendiconti/registro",
]
DOWNLOADS = [
    f"/rendiconti/fondi/csv?year={YEAR}",
    f"/rendiconti/fondo-poverta/xlsx?year={YEAR}",
    f"/rendiconti/fsc/pdf?year={YEAR}",
    "/rendiconti/fornitori/{provider}/csv?month=" + MONTH,
]
ACTIONS = [
    ("/rendiconti/fornitori/{provider}/approva", {"month": MONTH}),
    (
        "/rendiconti/fornitori/{provider}/pagamento",
        {"month": MONTH, "reference": "M-1", "paid_on": f"{YEAR}-05-02"},
    ),
    ("/rendiconti/siuss/genera", {"month": MONTH}),
]


@pytest.fixture
def world(app, client):
    return build(client)


def _url(world, page: str) -> str:
    return page.format(provider=world.provider.id)


@pytest.mark.parametrize("role", ["admin", "auditor", "finance"])
def test_admin_auditor_and_finance_see_every_page(world, role):
    if role == "finance":
        world.users[role] = f.make_user(role)
    client = world.login(role)
    for page in PAGES:
        response = client.get(_url(world, page))
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (page, html[:500])
        assert html.count("<h1") == 1 and '<html lang="it">' in html, page
    for page in DOWNLOADS:
        assert client.get(_url(world, page)).status_code == 200, page


def test_the_reports_index_starts_with_the_dashboard(world):
    html = world.login("auditor").get("/rendiconti/").get_data(as_text=True)
    sections = html.split("<section")
    assert 'id="dashboard-title"' in sections[1]
    assert f'href="/rendiconti/cruscotto?year={YEAR + 1}"' in sections[1]
    assert 'href="/rendiconti/registro"' in html


def test_social_worker_is_forbidden_everywhere(world):
    client = world.login("social_worker")
    for page in [*PAGES, *DOWNLOADS, "/rendiconti/miei-rendiconti"]:
        response = client.get(_url(world, page))
        assert response.status_code == 403, page
        assert "Accesso non consentito" in response.get_data(as_text=True)
    for page, data in ACTIONS:
        assert client.post(_url(world, page), data=data).status_code == 403, page
    assert client.post("/rendiconti/registro/verifica").status_code == 403


def test_provider_reads_only_its_own_statements(world):
    client = world.login("provider")
    own = {
        "/rendiconti/fornitori/{provider}?month=" + MONTH,
        "/rendiconti/fornitori/{provider}",
        "/rendiconti/fornitori/{provider}/csv?month=" + MONTH,
    }
    for page in [*PAGES, *DOWNLOADS]:
        response = client.get(_url(world, page))
        assert response.status_code == (200 if page in own else 403), page
    mine = client.get("/rendiconti/miei-rendiconti")
    assert mine.status_code == 200
    assert world.provider.name in mine.get_data(as_text=True)
    other = world.other.id
    for page in (
        f"/rendiconti/fornitori/{other}?month={MONTH}",
        f"/rendiconti/fornitori/{other}/pdf",
    ):
        assert client.get(page).status_code == 404, page
    for page, data in ACTIONS:
        assert client.post(_url(world, page), data=data).status_code == 403, page


def test_provider_month_choice_opens_its_own_statement(world):
    client = world.login("provider")
    response = client.get(f"/rendiconti/miei-rendiconti?month={MONTH}")
    assert response.status_code == 302
    assert response.headers["Location"] == world.statement_url()


def test_provider_navigation_leads_to_its_statements(world):
    html = world.login("provider").get("/").get_data(as_text=True)
    assert 'href="/rendiconti/miei-rendiconti"' in html
    assert 'href="/rendiconti/"' not in html


def test_admin_approves_and_only_finance_pays(world):
    (approve, _), (pay, payment), (generate, _) = ACTIONS
    client = world.login("admin")
    assert client.post(_url(world, pay), data=payment).status_code == 403
    client.post("/esci")
    f.login(client, f.make_user("finance"))
    assert client.post(_url(world, approve), data={"month": MONTH}).status_code == 403
    assert client.post(_url(world, generate), data={"month": MONTH}).status_code == 403
    # Past the permission: refused by what blocks the payment (the month is not approved).
    refused = client.post(_url(world, pay), data=payment)
    assert refused.status_code == 422
    assert "non è ancora approvato" in refused.get_data(as_text=True)


def test_auditor_reads_but_does_not_act(world):
    client = world.login("auditor")
    for page, data in ACTIONS:
        assert client.post(_url(world, page), data=data).status_code == 403, page
    html = client.get(world.statement_url()).get_data(as_text=True)
    assert "Approva il rendiconto" not in html
    assert "Genera i flussi" not in client.get("/rendiconti/siuss").get_data(as_text=True)
    assert client.post("/rendiconti/registro/verifica").status_code == 200


def test_anonymous_is_sent_to_sign_in(world):
    client = world.client
    for page in [*PAGES, *DOWNLOADS, "/rendiconti/miei-rendiconti"]:
        response = client.get(_url(world, page))
        assert response.status_code == 302, page
        assert response.headers["Location"].startswith("/accesso?next="), page


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ("/rendiconti/fondi?year=abc", "Anno non valido"),
        ("/rendiconti/fsc?year=1800", "Anno fuori intervallo"),
        ("/rendiconti/fondo-poverta?year=", "Indicare l'anno"),
        ("/rendiconti/cruscotto?year=99999999999999999999", "Anno non valido"),
        ("/rendiconti/fornitori/{provider}?month=2026-13", "Mese non valido"),
        ("/rendiconti/fornitori/{provider}?month=marzo", "Mese non valido"),
        ("/rendiconti/fornitori?provider={provider}&month=2026-00", "Mese non valido"),
        ("/rendiconti/fornitori?provider=abc&month=2026-01", "Scegliere un fornitore"),
        ("/rendiconti/fornitori?provider=&month=2026-01", "Scegliere un fornitore"),
        ("/rendiconti/siuss/flussi?month=2026-1", "Mese non valido"),
        ("/rendiconti/fondi/csv?year=abc", "Anno non valido"),
        ("/rendiconti/fsc/pdf?year=20266", "Anno non valido"),
        ("/rendiconti/fornitori/{provider}/xlsx?month=2026-13", "Mese non valido"),
        ("/rendiconti/siuss/flusso.xml?month=13-2026", "Mese non valido"),
        ("/rendiconti/registro?dal=2026-02-30", "Non è una data valida"),
        ("/rendiconti/registro?autore=user:999", "Non è una opzione valida"),
        ("/rendiconti/registro?dal=2026-03-02&al=2026-03-01", "precede"),
    ],
)
def test_bad_parameters_are_an_italian_message(world, page, message):
    response = world.login("admin").get(_url(world, page))
    html = response.get_data(as_text=True)
    assert response.status_code == 400, html[:500]
    assert message in html


def test_bad_parameters_of_the_provider_pages(world):
    client = world.login("provider")
    response = client.get("/rendiconti/miei-rendiconti?month=2026-13")
    assert response.status_code == 400
    assert "Mese non valido" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "page",
    [
        "/rendiconti/fornitori/99999999999999",
        "/rendiconti/fornitori/2147483646?month=2026-01",
        "/rendiconti/fornitori/{provider}/docx?month=" + MONTH,
        "/rendiconti/fondi/json?year=2025",
        "/rendiconti/siuss/flussi/99999999999.xml",
        "/rendiconti/siuss/flussi/12345.xml",
    ],
)
def test_unknown_objects_are_404(world, page):
    assert world.login("admin").get(_url(world, page)).status_code == 404


def test_odd_page_numbers_are_harmless(world):
    client = world.login("admin")
    for page in ("/rendiconti/registro?pagina=abc", "/rendiconti/registro?pagina=10000000000000"):
        assert client.get(page).status_code == 200, page
    response = client.get(world.statement_url() + "&pagina=-4")
    assert response.status_code == 200


def test_pages_speak_english_on_request(world):
    client = world.login("admin")
    client.post("/lingua/en", data={"next": "/rendiconti/"})
    html = client.get(f"/rendiconti/cruscotto?year={YEAR}").get_data(as_text=True)
    assert "<h1>Dashboard</h1>" in html and "Budget per scheme" in html
    html = client.get("/rendiconti/fondi?year=abc").get_data(as_text=True)
    assert "Invalid year: write four digits" in html
