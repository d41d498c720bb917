"""English is a complete second language: every role's main pages, read in English, show no
Italian wording. Data stays as it is (names, addresses, the schemes' names, INPS's Italian
names of the prestazioni); the terms the English catalogue keeps in Italian on purpose (ente,
Comuni, ISEE, Fondo Povertà, DURC, CUP) are not on the list.

That every marked string has its English translation is tests/web/test_translations.py."""

import re
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from markupsafe import Markup

from tests.web.english_world import build, data_values
from tests.web.reports_world import MONTH, YEAR
from voucher.web.wording import translated

# Italian words that are wording, never data: each one on an English page is a leak.
ITALIAN = [
    "Beneficiari[oa]?",
    "Buon[oi]",
    "Misur[ae]",
    "Saldo",
    "Fornitor[ei]",
    "Requisiti",
    "Età",
    "anni",
    "ore",
    "ora",
    "past[oi]",
    "trasport[oi]",
    "access[oi]",
    "Categori[ae]",
    "Codice fiscale",
    "Troppi tentativi",
    "Nessun[oa]?",
    "Scadenza",
    "Rendicont[oi]",
    "Servizi[o]?",
    "Prestazion[ei]",
    "Lott[oi]",
    "Riga",
    "Righe",
    "Importo",
    "Emess[oiae]",
    "Residente",
    "soglia",
    "fascia",
    "regola",
    "valido",
    "mancante",
    "della",
    "delle",
    "degli",
    "nella",
    "nel",
    "il",
    "gli",
    "non(?!-)",  # not "Non-Self-Sufficiency"
    "che",
    "sono",
    "questo",
    "questa",
    "Stesso",
    "Assistenza",
    "domicilio",
    "Salva",
    "Annulla",
    "Conferma",
    "Cerca",
    "Scarica",
    "Modifica",
    "Aggiungi",
    "Torna",
    "Stato",
    "Valore",
    "Pagina",
    "Esci",
]
LEAK = re.compile(r"\b(?:" + "|".join(ITALIAN) + r")\b", re.IGNORECASE)

# Attributes a reader sees or hears: tooltips, accessible names, hints, confirmations.
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt", "data-confirm"}
# Elements that hold recorded data as it was written: the audit log's event data.
DATA_CLASSES = {"app-event-data"}


class _VisibleText(HTMLParser):
    """The text of a page a person reads, scripts and styles left out."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skipping: list[str] = []  # the open elements whose text is left out

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        nested = bool(self._skipping) and tag == self._skipping[-1]
        if nested or tag in ("script", "style") or classes & DATA_CLASSES:
            self._skipping.append(tag)
        if self._skipping:
            return
        self.parts.extend(v for k, v in attrs if k in READ_ATTRIBUTES and v)
        if tag == "input" and attributes.get("type") in ("submit", "button"):
            self.parts.append(attributes.get("value") or "")

    def handle_endtag(self, tag):
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()

    def handle_data(self, data):
        if not self._skipping:
            self.parts.append(data)


def visible_text(html: str, data: set[str]) -> str:
    """The page's wording: its visible text with the data values taken out."""
    parser = _VisibleText()
    parser.feed(html)
    text = " \n ".join(parser.parts)
    if not data:
        return text
    values = "|".join(re.escape(v) for v in sorted(data, key=len, reverse=True))
    return re.sub(rf"(?<!\w)(?:{values})(?!\w)", " ", text)


def leaks(html: str, data: set[str]) -> list[str]:
    """Each Italian word on the page, with the words around it to find where it comes from."""
    text = visible_text(html, data)
    return [
        " ".join(
            f"{text[max(0, m.start() - 40) : m.start()]}«{m[0]}»{text[m.end() :][:40]}".split()
        )
        for m in LEAK.finditer(text)
    ]


@pytest.fixture
def world(app, client):
    return build(client)


def _pages(world) -> dict[str, list]:
    """Every role's main pages: a URL to GET, or (URL, form) to POST."""
    w, provider = world, world.provider.id
    person, voucher, entry = w.person.id, w.voucher.id, w.entry.id
    return {
        "anonymous": [
            "/",
            "/accesso",
            ("/accesso", {"username": "nobody", "password": "wrong-password-1"}),
            "/privacy",
            "/accessibilita",
            "/saldo",
            "/servizi/beneficiari",  # to the sign-in page, with a message
        ],
        "admin": [
            "/",
            "/admin/misure",
            f"/admin/misure/{w.scheme.id}",
            f"/admin/misure/{w.scheme.id}/modifica",
            "/admin/misure/nuova",
            f"/admin/misure/{w.scheme.id}/budget",
            f"/admin/misure/{w.scheme.id}/validita",
            f"/admin/misure/{w.scheme.id}/fornitori",
            "/admin/fornitori",
            f"/admin/fornitori/{provider}",
            f"/admin/fornitori/{provider}/modifica",
            "/admin/fornitori/nuovo",
            f"/admin/fornitori/{provider}/sospendi",
            "/admin/ente",
            "/admin/utenti",
            f"/admin/utenti/{w.reports.users['social_worker'].id}",
            "/admin/utenti/nuovo",
            f"/admin/beneficiari/{person}/esportazione",
        ],
        "social_worker": [
            "/",
            "/servizi/beneficiari",
            f"/servizi/beneficiari/{person}",
            f"/servizi/beneficiari/{person}/modifica",
            f"/servizi/beneficiari/{person}/isee",
            "/servizi/beneficiari/nuovo",
            f"/servizi/beneficiari/{w.refused.id}/emetti?misura={w.scheme.id}",
            f"/servizi/beneficiari/{person}/emetti?misura={w.scheme.id}",
            "/servizi/buoni",
            f"/servizi/buoni/{voucher}",
            f"/servizi/buoni/{voucher}/revoca",
            f"/servizi/buoni/{voucher}/sospendi",
            f"/servizi/buoni/{voucher}/trasferisci",
            f"/servizi/buoni/{voucher}/movimenti/{entry}/storno",
            "/servizi/isee-in-scadenza",
            "/servizi/lotti",
            f"/servizi/lotti/{w.batch.id}",
            "/servizi/importazioni",
            "/servizi/notifiche",
        ],
        "provider": [
            "/",
            "/fornitore/",
            ("/fornitore/", {"voucher": w.voucher.code}),
            ("/fornitore/", {"voucher": UNKNOWN_CODE}),  # refused, with a message
            "/fornitore/prestazioni",
            f"/fornitore/prestazioni/{entry}/ricevuta",
            f"/fornitore/prestazioni/{entry}/annulla",
            "/rendiconti/miei-rendiconti",
        ],
        "auditor": [
            "/",
            "/rendiconti/",
            f"/rendiconti/cruscotto?year={YEAR}",
            f"/rendiconti/fondi?year={YEAR}",
            f"/rendiconti/fondo-poverta?year={YEAR}",
            f"/rendiconti/fsc?year={YEAR}",
            "/rendiconti/fornitori",
            f"/rendiconti/fornitori/{provider}?month={MONTH}",
            "/rendiconti/siuss",
            f"/rendiconti/siuss/flussi?month={MONTH}",
            "/rendiconti/registro",
        ],
        "finance": [
            "/",
            "/rendiconti/ragioneria",
            "/rendiconti/liquidazione",
        ],
        "beneficiary": [
            ("/saldo", {"code": w.voucher.code, "pin": w.pin}),
            "/saldo/buono",
        ],
    }


UNKNOWN_CODE = "ZZZZ-ZZZZ-ZZZZ-ZZZZ"

# What some pages must say in English: the services' messages, translated on the page.
EXPECTED = {
    "issue for the person turned down": [
        "Age 30, below the minimum of 65",
        "None of the beneficiary's categories is eligible for the scheme",
        "ISEE above the scheme's ceiling",
    ],
    "issue for the person with a voucher": [
        "Active vouchers for this scheme: 1 of a maximum of 1",
        "Scheme active",
        "A1 Social home care for self-sufficient elderly people",
    ],
    "batch": [
        "Repeated row: Same fiscal code as row 2.",
        "Invalid fiscal code: The fiscal code is not valid.",
        "Beneficiary not registered: No beneficiary registered with this code.",
        "Requirements not met: None of the beneficiary's categories is eligible",
    ],
    "card": ["23 hours (460,00 €)", "25 hours (500,00 €)"],
    "unknown code": ["No voucher with this code."],
    "sign-in needed": ["Sign in to continue."],
}


def test_every_role_reads_its_pages_in_english(world):
    client = world.client
    client.post("/lingua/en", data={"next": "/"})
    data = data_values()
    found, texts = {}, {}
    for role, pages in _pages(world).items():
        if role not in ("anonymous", "beneficiary"):
            world.sign_in(role)
        elif role == "beneficiary":
            client.post("/esci")
        for page in pages:
            url, form = page if isinstance(page, tuple) else (page, None)
            response = client.post(url, data=form) if form else client.get(url)
            if response.status_code in (302, 303):
                response = client.get(response.headers["Location"])
            html = response.get_data(as_text=True)
            assert response.status_code in (200, 401, 422), (role, url, response.status_code)
            assert '<html lang="en">' in html, (role, url)
            key = (role, url, frozenset(form.items()) if form else None)
            texts[key] = " ".join(visible_text(html, set()).split())
            if words := leaks(html, data):
                found[f"{role} {'POST ' if form else ''}{url}"] = words
    assert not found, "Italian on English pages:\n" + "\n".join(
        f"{page}: {words}" for page, words in found.items()
    )
    issue = f"/servizi/beneficiari/{{}}/emetti?misura={world.scheme.id}"
    pages = {
        "issue for the person turned down": ("social_worker", issue.format(world.refused.id)),
        "issue for the person with a voucher": ("social_worker", issue.format(world.person.id)),
        "batch": ("social_worker", f"/servizi/lotti/{world.batch.id}"),
        "card": ("provider", "/fornitore/", {"voucher": world.voucher.code}),
        "unknown code": ("provider", "/fornitore/", {"voucher": UNKNOWN_CODE}),
        "sign-in needed": ("anonymous", "/servizi/beneficiari"),
    }
    for name, sentences in EXPECTED.items():
        role, url, *posted = pages[name]
        text = texts[(role, url, frozenset(posted[0].items()) if posted else None)]
        assert [s for s in sentences if s not in text] == [], (name, text)


def test_a_service_message_reads_in_english_and_stays_italian_for_italians(app):
    with app.test_request_context(), force_locale("en"):
        assert translated("Età 30 anni, inferiore al minimo di 65.") == (
            "Age 30, below the minimum of 65."
        )
        # A refusal's detail: a message within a message.
        assert translated("Età 30 anni, inferiore al minimo di 65 (regola: min_age).") == (
            "Age 30, below the minimum of 65 (rule: min_age)."
        )
        assert translated("Stesso codice fiscale della riga 7.") == "Same fiscal code as row 7."
        assert translated("La misura «Alpha 2» non è attiva.") == (
            "The scheme “Alpha 2” is not active."
        )
        assert translated("Lotto non trovato.") == "Batch not found."
        # What the catalogue does not know stays as it is; markup is left alone.
        assert translated("Un messaggio che nessuno ha segnato") == (
            "Un messaggio che nessuno ha segnato"
        )
        assert translated(Markup("<b>Misura attiva</b>")) == Markup("<b>Misura attiva</b>")
    with app.test_request_context(), force_locale("it"):
        assert translated("Stesso codice fiscale della riga 7.") == (
            "Stesso codice fiscale della riga 7."
        )


def test_the_leak_finder_reads_what_a_person_reads():
    html = (
        '<p title="Saldo del buono">Balance</p><script>var label = "Misura";</script>'
        '<input type="submit" value="Conferma"><dl class="app-event-data"><dd>elenco dei buoni'
        "</dd></dl><p>Mario Rossi, Via Roma 1: Non-Self-Sufficiency</p>"
    )
    found = leaks(html, {"Mario Rossi", "Via Roma 1"})
    assert [re.search("«(.*?)»", f)[1] for f in found] == ["Saldo", "buono", "Conferma"]
