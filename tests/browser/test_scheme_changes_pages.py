"""The admin changes an active scheme in Chromium: the budget page asks for confirmation,
refuses a cut below the committed with both figures next to the field, and the budget,
validity and providers pages have no serious or critical axe-core violation."""

import pytest

from tests import factories as f
from tests.browser.support import DESKTOP, axe_violations, describe_violations, open_tab, serve
from tests.browser.support import sign_in as sign_in_tab
from tests.conftest import make_app
from voucher.extensions import db
from voucher.services import SYSTEM, issuance

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin_site(tmp_path_factory):
    """An ente with an active scheme (one 500 € voucher issued), two providers and an admin,
    served on a free port."""
    instance = tmp_path_factory.mktemp("instance-scheme-changes")
    app = make_app(f"sqlite:///{instance / 'site.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        f.make_ente()
        scheme = f.make_scheme(face_value_cents=50_000, budget_cents=1_000_000)
        issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
        f.make_provider(services=("A1",), name="Cooperativa Aurora")
        f.make_provider(services=("A2",), name="Cooperativa Borea")
        admin = f.make_user("admin")
        db.session.commit()
        seeded = (scheme.id, admin.username)
        db.session.remove()
    with serve(app) as url:
        yield url, *seeded


def test_budget_validity_and_providers_pages(browser, admin_site):
    url, scheme_id, admin = admin_site
    tab = open_tab(browser, url, DESKTOP)
    try:
        sign_in_tab(tab, admin)
        problems = []
        tab.goto(f"/admin/misure/{scheme_id}")
        tab.click("text=Modifica il budget")
        tab.fill("#budget", "499,99")
        tab.fill("#reason", "Determina n. 12 del 3 marzo")
        dialogs = []
        tab.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
        tab.click("button:has-text('Salva il nuovo budget')")
        tab.wait_for_selector("#budget-error")
        assert dialogs == ["Confermi il nuovo budget della misura?"]
        assert "impegnato 500,00 €" in tab.inner_text("#budget-error")
        problems += describe_violations("budget (errore)", axe_violations(tab))
        for path in ("validita", "fornitori"):
            tab.goto(f"/admin/misure/{scheme_id}/{path}")
            problems += describe_violations(path, axe_violations(tab))
        assert "Cooperativa Aurora" in tab.inner_text("main")
        assert not problems, "\n".join(problems)
        # the refused form answers 422, which Chromium reports; nothing else may fail
        assert not [e for e in tab.errors if "status of 422" not in e], tab.errors
    finally:
        tab.context.close()
