"""A family signs in with SPID in a real browser: the sign-in page, the choice of identity
provider, the AuthnRequest the application sends (caught on its way to the provider), a
response signed by spid-sp-test's own test identity provider for that very request and
posted back to /spid/acs as the provider's page would, then the personal area: the mother's
voucher and her son's (she is registered as his parent), not a stranger's. Sign-out ends
the session here and sends the browser to the provider's single logout."""

import base64
import json
import re
from html import escape

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.support import open_tab, serve
from tests.spid_support import spid_app, spid_sp_test
from voucher.extensions import db
from voucher.services import SYSTEM, issuance

pytestmark = pytest.mark.browser

TEST_IDP = "https://localhost:8443"  # spid-sp-test's identity provider


def _world(app) -> dict:
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(name="Assistenza domiciliare")
        minors = f.make_scheme(name="Educativa per minori", eligible_categories=["minor"])
        mother = f.make_beneficiary(age=40, sex="F", first_name="Lucia", last_name="Bianchi")
        son = f.make_beneficiary(
            age=9,
            sex="M",
            first_name="Tommaso",
            last_name="Bianchi",
            categories=("minor",),
            representative_fiscal_code=mother.fiscal_code,
            representative_role="genitore",
        )
        stranger = f.make_beneficiary(first_name="Ottavia", last_name="Sconosciuti")
        codes = {}
        for name, person, on in (
            ("mother", mother, scheme),
            ("son", son, minors),
            ("stranger", stranger, scheme),
        ):
            voucher, _pin = issuance.issue_voucher(SYSTEM, on, person)
            codes[name] = voucher.code
        db.session.commit()
        world = {"fiscal_code": mother.fiscal_code, **codes}
        db.session.remove()
        return world


def _signed_response(url: str, request_file, attributes_file) -> str:
    """spid-sp-test's correct response (its test 1) to the AuthnRequest in `request_file`,
    signed by its identity provider, printed rather than sent."""
    result = spid_sp_test(
        "--metadata-url",
        f"{url}/spid/metadata",
        "--authn-url",
        f"file://{request_file}",
        "--test-response",
        "--test-names",
        "1",
        "--no-send-response",
        "--attr-json",
        str(attributes_file),
        idp_entity_id=TEST_IDP,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    xml = re.search(r"<!--[^\n]*-->\n(.*)", result.stdout, re.S)
    assert xml, result.stdout[-2000:]
    return xml.group(1).strip()


def test_a_mother_signs_in_with_spid_and_sees_her_voucher_and_her_sons(browser, tmp_path):
    app = spid_app(tmp_path / "instance", TEST_IDP)
    world = _world(app)
    attributes = tmp_path / "attributes.json"
    attributes.write_text(
        json.dumps(
            {
                "fiscalNumber": f"TINIT-{world['fiscal_code']}",
                "name": "Lucia",
                "familyName": "Bianchi",
                "email": "lucia.bianchi@example.it",
            }
        )
    )
    with serve(app) as url:
        app.config["PUBLIC_URL"] = url
        tab = open_tab(browser, url)
        sent = {}

        def identity_provider(route):
            # The browser reaches the provider with the application's AuthnRequest
            # (HTTP-Redirect binding): keep it, and answer as the provider's login page.
            sent.setdefault("sso", route.request.url)
            sent.setdefault("slo", route.request.url if "Logout" in route.request.url else None)
            route.fulfill(status=200, content_type="text/html", body="<p>IdP</p>")

        tab.context.route(f"{TEST_IDP}/**", identity_provider)
        tab.goto("/area-personale")
        expect(tab.get_by_role("heading", name="Entra con SPID")).to_be_visible()
        tab.locator("#spid-idps summary").click()
        tab.locator("#spid-idps a").first.click()
        tab.wait_for_url(f"{TEST_IDP}/**")
        assert "SAMLRequest=" in sent["sso"] and "Signature=" in sent["sso"]

        request_file = tmp_path / "authn-request.txt"
        request_file.write_text(sent["sso"])
        response = _signed_response(url, request_file, attributes)
        encoded = base64.b64encode(response.encode()).decode()
        # What the provider's page does: post the response to the service's ACS.
        tab.set_content(
            f'<form method="post" action="{url}/spid/acs">'
            f'<input type="hidden" name="SAMLResponse" value="{escape(encoded)}">'
            '<button type="submit">Continua</button></form>'
        )
        tab.get_by_role("button", name="Continua").click()
        tab.wait_for_url(f"{url}/area-personale")

        expect(tab.get_by_role("heading", name="Area personale")).to_be_visible()
        expect(tab.locator("#welcome")).to_contain_text("Ciao Lucia")
        expect(tab.get_by_role("heading", name="I tuoi buoni")).to_be_visible()
        expect(tab.get_by_role("heading", name=re.compile("Buoni di Tommaso"))).to_be_visible()
        page = tab.content()
        assert world["mother"] in page and world["son"] in page
        assert world["stranger"] not in page and "Ottavia" not in page
        assert world["fiscal_code"] not in page

        # The son's messages in English, by e-mail only.
        son = tab.locator("section.app-citizen-person").nth(1)
        son.locator("summary", has_text="Avvisi").click()
        son.get_by_text("Ricevi i messaggi sull'app IO").click()  # the label, as people do
        expect(son.get_by_label("Ricevi i messaggi sull'app IO")).not_to_be_checked()
        son.get_by_label("Lingua dei messaggi").select_option("en")
        son.get_by_role("button", name="Salva le preferenze").click()
        expect(tab.get_by_text("Preferenze salvate.")).to_be_visible()
        assert tab.errors == []

        # Sign-out: the session here ends and the provider is asked to end its own.
        sent.pop("sso")
        tab.get_by_role("button", name="Esci").click()
        tab.wait_for_url(f"{TEST_IDP}/**")
        assert "SAMLRequest=" in sent["sso"]
        tab.goto("/area-personale")
        expect(tab.get_by_role("heading", name="Entra con SPID")).to_be_visible()
        assert world["mother"] not in tab.content()
        tab.context.close()
