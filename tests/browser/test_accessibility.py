"""axe-core on every page, for everyone who uses them: no serious or critical WCAG 2.x A/AA
violation on any page that a visitor, a family (code and PIN), a social worker, a provider's
operator, the ente's administrator or an auditor can open; and no page wider than the window
(reflow, WCAG 1.4.10: the families and the providers use phones).

The pages are read from the application's URL map, not from a list kept by hand: every rule
that answers GET is asked for by every role, with ids taken from the demo ente (voucher.demo,
with bulk batches, SIUSS flows and a draft scheme added), and each page a role is shown is
opened in Chromium and checked, as is the first error page (403, 404) of each role. Content
already checked at the same window size for another role is not checked again: only the
role's header and footer, which axe-core checks on the role's first page. A rule with a
parameter that the world below has no value for fails the test, and so does a page that no
role can open. The few GET endpoints that are not pages are listed in EXCLUDED, each with the
reason; endpoints that answer POST only (sign-out, language, approvals, …) are forms'
targets, and the pages a POST answers with (the PIN shown once, search results, a provider's
voucher card and summary) are checked by the journey tests of each role.
"""

import itertools
import os
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.browser.support import (
    CHROMIUM,
    DESKTOP,
    PHONE,
    axe_violations,
    describe_violations,
    open_tab,
    serve,
    sign_in,
)
from tests.conftest import make_app
from voucher import jobs
from voucher.demo import load_demo
from voucher.extensions import db
from voucher.models import (
    BeneficiaryImport,
    Comune,
    IssueBatch,
    LedgerEntry,
    Provider,
    Scheme,
    User,
    Voucher,
)
from voucher.periods import Month
from voucher.services import batches, beneficiary_import, clock, siuss, users
from voucher.web.social.vouchers import ACTIONS

pytestmark = pytest.mark.browser

# GET endpoints that are not pages, and why.
EXCLUDED = {
    "static": "stylesheets, scripts, fonts and pictures",
    "health.health": "JSON for the load balancer",
    "api-docs.openapi_json": "the OpenAPI document (JSON)",
    "reports.year_download": "CSV, XLSX and PDF files (the admin's download journey)",
    "reports.statement_download": "CSV, XLSX and PDF files (the admin's download journey)",
    "reports.liquidation_download": "CSV, XLSX and PDF files (tests/reports/test_liquidation.py)",
    "reports.siuss_month_xml": "a SIUSS XML file",
    "reports.siuss_flow_xml": "a SIUSS XML file",
    "provider.redemptions_csv": "a CSV file",
    "beneficiary.letter": "the letter, a PDF",
    "social.letter": "the letter, a PDF (the social worker's journey)",
    "social.voucher_batch_letters": "a batch's letters, a PDF",
    "social.voucher_batch_codes": "a batch's codes, a CSV file",
    "social.voucher_batch_template": "the batch template, a CSV file",
    "social.voucher_batch_progress": "a batch's progress, JSON polled by its page",
    "social.beneficiary_import_template": "the template of the beneficiary import, a CSV file",
    "citizen.metadata": "the SAML metadata, XML for AgID and the Ministero dell'Interno",
    "citizen.login": "a redirect to the identity provider (tests/web/test_spid_conformance.py)",
    "citizen.slo": "the identity provider's logout answer, a redirect",
}
EXCLUDED_BLUEPRINTS = {"api_": "the JSON API under /api/v1"}  # endpoint prefix: reason
NOT_FOUND = "/pagina-che-non-esiste"

ROLES = ("anonymous", "beneficiary", "social_worker", "provider", "admin", "auditor", "finance")
# The demo's users (voucher.demo), whose password is factories.PASSWORD here.
STAFF_LOGINS = {
    "social_worker": "assistente",
    "provider": "operatore",
    "admin": "admin",
    "auditor": "revisore",
    "finance": "ragioneria",
}
VIEWPORTS = {"beneficiary": PHONE, "provider": PHONE}  # the others work at a desk


@dataclass(frozen=True)
class Page:
    endpoint: str
    path: str


@dataclass
class Visit:
    page: Page
    status: int
    checked: bool = False  # opened in the browser and checked by axe-core
    violations: list[str] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        """The role sees this page itself (not a sign-in or an error in its place)."""
        return self.status == 200


@dataclass
class DemoWorld:
    url: str
    pages: list[Page]
    endpoints: set[str]  # every endpoint of the URL map
    code: str  # a voucher of the demo and its PIN, for the family's pages
    pin: str


def _excluded(endpoint: str) -> bool:
    return endpoint in EXCLUDED or any(endpoint.startswith(p) for p in EXCLUDED_BLUEPRINTS)


def _user(username: str) -> User:
    return db.session.execute(select(User).filter_by(username=username)).scalar_one()


def _extras() -> None:
    """What the demo lacks: a bulk batch in draft and one issued, last month's SIUSS flows
    and a draft scheme (the only kind that can be edited)."""
    worker = users.actor_for(_user("assistente"))
    scheme = db.session.execute(select(Scheme).order_by(Scheme.id)).scalars().first()
    codes = [
        v.beneficiary.fiscal_code for v in db.session.execute(select(Voucher).limit(3)).scalars()
    ]
    text = "codice_fiscale;note\n" + "".join(f"{code};\n" for code in [*codes, "RSSMRA80A01H501X"])
    batches.create_batch(worker, scheme, text.encode())
    done = batches.create_batch(worker, scheme, text.encode())
    batches.confirm_batch(worker, done)
    db.session.commit()
    jobs.run_pending()
    admin = users.actor_for(_user("admin"))
    siuss.generate_flows(admin, Month.of(clock.today()).previous())
    f.make_scheme(status="draft", name="Misura in bozza")
    db.session.commit()
    _imports(worker, codes)


def _imports(worker, codes: list[str]) -> None:
    """Two imports of beneficiaries by the social worker: a draft (with a row whose codice
    fiscale disagrees with the name, and refused rows) and a confirmed one."""
    istat = db.session.execute(select(Comune.istat_code).where(Comune.ente_id.is_not(None)))
    istat = istat.scalars().first()
    for confirm in (False, True):
        new = f.fiscal_code_for(f.unique_birth_date(45), "F", "Neri", "Carla")
        odd = f.fiscal_code_for(f.unique_birth_date(45), "M", "Rossi", "Mario")
        text = "codice_fiscale;nome;cognome;comune_istat\n" + "".join(
            f"{code};{first};Neri;{istat}\n"
            for code, first in [(new, "Carla"), (odd, "Anna"), (codes[0], "Rosa"), ("X", "Ada")]
        )
        done = beneficiary_import.create_import(worker, text.encode())
        if confirm:
            beneficiary_import.confirm_import(worker, done, include_warnings=True)
    db.session.commit()


def _arguments() -> dict[str, list]:
    """A value (or several, for pages that differ by state) for every URL parameter."""
    operator = _user("operatore")
    entry = (
        db.session.execute(
            select(LedgerEntry)
            .join(Voucher, Voucher.id == LedgerEntry.voucher_id)
            .where(
                LedgerEntry.provider_id == operator.provider_id,
                LedgerEntry.kind == "redemption",
                Voucher.status == "active",
            )
            .order_by(LedgerEntry.id)
        )
        .scalars()
        .first()
    )
    draft = db.session.execute(select(Scheme).filter_by(status="draft")).scalar_one()
    suspended = db.session.execute(select(Provider).filter_by(status="suspended")).scalars().first()
    batch_ids = db.session.execute(select(IssueBatch.id).order_by(IssueBatch.id))
    return {
        "provider_id": [operator.provider_id, suspended.id],
        "scheme_id": [entry.voucher.scheme_id, draft.id],
        "user_id": [operator.id],
        "beneficiary_id": [entry.voucher.beneficiary_id],
        "voucher_id": [entry.voucher_id],
        "entry_id": [entry.id],
        "batch_id": list(batch_ids.scalars()),
        "import_id": list(db.session.execute(select(BeneficiaryImport.id)).scalars()),
        "name": sorted(ACTIONS),
        "federation_name": ["spid", "cie"],
    }


def _query_variants(arguments: dict) -> dict[str, list[dict]]:
    """Pages that show more with a query: the issuing page once a scheme is chosen."""
    return {"social.issue": [{}, {"misura": arguments["scheme_id"][0]}]}


def _pages(app) -> list[Page]:
    """Every GET rule of the URL map that is a page, with each combination of values."""
    arguments = _arguments()
    variants = _query_variants(arguments)
    adapter = app.url_map.bind("127.0.0.1")
    pages = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or _excluded(rule.endpoint):
            continue
        names = sorted(rule.arguments - set(rule.defaults or {}))
        missing = [n for n in names if n not in arguments]
        if missing:
            pytest.fail(f"no value for {missing} of {rule.rule}: add one to _arguments()")
        for values in itertools.product(*(arguments[n] for n in names)):
            for query in variants.get(rule.endpoint, [{}]):
                path = adapter.build(
                    rule.endpoint, {**dict(zip(names, values, strict=True)), **query}
                )
                pages.append(Page(rule.endpoint, path))
    return pages


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo ente on a free port (every demo user's password is factories.PASSWORD)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    instance = tmp_path_factory.mktemp("instance-demo")
    app = make_app(f"sqlite:///{instance / 'demo.sqlite3'}", instance, WTF_CSRF_ENABLED=True)
    with app.app_context():
        logins = load_demo(password=f.PASSWORD)
        db.session.commit()
        _extras()
        pages = _pages(app)
        db.session.remove()
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    voucher = next(login for login in logins if login["role"] == "buono")
    with serve(app) as url:
        yield DemoWorld(url, pages, endpoints, voucher["username"], voucher["password"])


def _sign_in(tab, role: str, demo: DemoWorld) -> None:
    if role in STAFF_LOGINS:
        sign_in(tab, STAFF_LOGINS[role])
    elif role == "beneficiary":
        tab.goto("/saldo")
        tab.fill("#code", demo.code)
        tab.fill("#pin", demo.pin)
        tab.press("#pin", "Enter")
        tab.wait_for_url("**/saldo/buono")


_HEADER = re.compile(r"<header\b.*?</header>", re.S)
_TOKENS = re.compile(r'(name="(?:csrf_token|token)"[^>]*value=")[^"]*"')
LAYOUT = ("header.it-header-wrapper", "footer.it-footer")  # the same on every page of a role


def _content_key(viewport: dict, html: str) -> tuple:
    """What axe-core's findings on a page depend on, the role's header apart: a page with
    the same content at the same size was checked already (by another role)."""
    return viewport["width"], _TOKENS.sub(r"\1", _HEADER.sub("", html))


def _reflow(tab, where: str) -> list[str]:
    """WCAG 1.4.10, which axe-core leaves to people: nothing but a table scrolls sideways."""
    extra = tab.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return [f"{where}: reflow, the page is {extra}px wider than the window"] if extra > 0 else []


def _visit_all(browser, demo: DemoWorld, role: str, checked: set) -> list[Visit]:
    """Ask for every page as `role`. Each page the role is shown, and the first error page of
    each kind, is opened in the browser and checked with axe-core: the first one whole, the
    others without the header and footer, and none whose content was checked already."""
    viewport = VIEWPORTS.get(role, DESKTOP)
    tab = open_tab(browser, demo.url, viewport)
    visits, errors_seen = [], set()
    try:
        _sign_in(tab, role, demo)
        for page in [*demo.pages, Page("(none)", NOT_FOUND)]:
            # The same cookies as the tab, without drawing a page that needs no check.
            answer = tab.context.request.get(demo.url + page.path, max_redirects=0)
            visit = Visit(page, answer.status)
            visits.append(visit)
            first_error = visit.status in (403, 404) and visit.status not in errors_seen
            if not (visit.shown or first_error):
                continue
            errors_seen.add(visit.status)
            key = _content_key(viewport, answer.text())
            layout_checked = any(v.checked for v in visits)
            if key in checked and layout_checked:
                continue
            checked.add(key)
            response = tab.goto(page.path)
            assert response.status == visit.status, page.path
            where = f"{role} GET {page.path}"
            found = axe_violations(tab, exclude=LAYOUT if layout_checked else ())
            visit.checked = True
            visit.violations = describe_violations(where, found) + _reflow(tab, where)
    finally:
        tab.context.close()
    return visits


@pytest.fixture(scope="module")
def visits(browser, demo):
    """Each role's visits, made once per module whichever test asks first."""
    cache: dict[str, list[Visit]] = {}
    checked: set = set()

    def of(role: str) -> list[Visit]:
        if role not in cache:
            cache[role] = _visit_all(browser, demo, role, checked)
        return cache[role]

    return of


@pytest.mark.parametrize("role", ROLES)
def test_no_serious_accessibility_issue_on_any_page(visits, role):
    found = [line for visit in visits(role) for line in visit.violations]
    assert not found, "axe-core, serious or critical:\n" + "\n".join(found)
    assert [v for v in visits(role) if v.page.path == NOT_FOUND][0].status == 404


def test_every_page_is_checked_by_some_role(visits, demo):
    """Each page is shown to some role (in one state at least: a scheme in force cannot be
    edited, a draft one can)."""
    shown = {v.page.endpoint for role in ROLES for v in visits(role) if v.shown}
    unchecked = sorted({p.endpoint for p in demo.pages} - shown)
    assert not unchecked, "pages that no role could open: " + ", ".join(unchecked)


def test_what_each_role_is_shown(visits):
    """The visits reach the pages they should: the checks above are not vacuous."""
    shown = {role: {v.page.endpoint for v in visits(role) if v.shown} for role in ROLES}
    assert {"main.home", "beneficiary.check", "auth.login"} <= shown["anonymous"]
    assert "social.beneficiaries" not in shown["anonymous"]
    assert "beneficiary.voucher" in shown["beneficiary"]
    assert {"social.voucher_action", "social.voucher_batch", "social.reverse"} <= shown[
        "social_worker"
    ]
    assert {"provider.scan", "provider.receipt", "reports.my_statements"} <= shown["provider"]
    assert "admin.users" not in shown["provider"] | shown["social_worker"] | shown["auditor"]
    assert {"admin.user", "admin.scheme_edit", "reports.siuss_flows"} <= shown["admin"]
    assert {"reports.audit_log", "reports.dashboard_page"} <= shown["auditor"]


def test_every_excluded_endpoint_exists(demo):
    """EXCLUDED names endpoints of today's application: it cannot go stale unnoticed."""
    assert set(EXCLUDED) <= demo.endpoints
    assert not {p.endpoint for p in demo.pages} & set(EXCLUDED)
