"""The pages' query strings and forms, sent back with extreme values: no answer may be a 5xx.

A crawl signed in as one role follows the links of the pages it can see (one URL per route
shape: ids become `<n>`), reads every form (GET and POST) and the query string of every
link, and sends each back with every field set to each extreme value at once, then with
each field that looks like a date or a number set alone (the others as the page filled
them). The CSRF token and one-time tokens are sent back as the page gave them.

The transport is a callable, so the same crawl runs in process with Flask's test client
(tests/security/test_fuzz_pages.py) and against a live server (scripts/fuzz_api).
"""

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

# Dates past the calendar's ends, a number past int()'s 4,300 digits, a negative one, nothing,
# a long text, and a NUL, which no database stores.
HUGE_NUMBER = "1" + "0" * 5000
EXTREMES = ("9999-12-31", "0000-01-01", "-1", HUGE_NUMBER, "", "x" * 5000, "a\x00b")
# A date or a number alone (the other fields as the page filled them, so that the view gets
# past them) gets the values that parse and reach the furthest: the first and last days of
# the calendar, a negative amount and one past every integer column.
DATES = ("9999-12-31", "0001-01-01")
NUMBERS = ("-1", "9" * 20)
_DATE = re.compile(r"date|data|day|giorno|^dal$|^al$|from|until|since|scadenza|paid_on", re.I)
_NUMBER = re.compile(
    r"cents|importo|amount|quant|^ore$|hours|isee|^valu|prezzo|price|budget|eta|age|anno|year|"
    r"numero|pagina|page|limit|face|max|min",
    re.IGNORECASE,
)
# Hidden fields sent back as the page gave them, so that a request gets past its CSRF check
# and one-time token to the fields behind them; every other hidden field is fuzzed too.
KEPT_AS_GIVEN = frozenset({"csrf_token", "token", "key", "next"})
# Forms that would end the crawl's own session or lock its own account out.
SKIPPED_ACTIONS = re.compile(
    r"^/(esci|saldo/esci|lingua/[^/]*|admin/utenti/<n>/(stato|password|ruolo))$"
)
# Files and letters, slow to draw and with nothing to fill in.
SKIPPED_LINKS = re.compile(r"\.(pdf|png|jpg|svg|ico|js|css|xml|zip|p7m)$|^/static/")
_ID = re.compile(r"/\d+(?=/|$|\.)")
_FORMAT = re.compile(r"/(csv|xlsx|pdf)$")
_CODE = re.compile(r"/[0-9A-Z]{4}(?:-[0-9A-Z]{4}){3}(?=/|$)")


@dataclass
class Answer:
    status: int
    content_type: str = ""
    text: str = ""
    location: str = ""


# send(method, path with query string, form fields or None) -> Answer
Send = Callable[[str, str, list[tuple[str, str]] | None], Answer]


@dataclass
class Form:
    method: str
    action: str
    fields: list[tuple[str, str, str]]  # (name, input type, value the page gave)

    def key(self) -> tuple:
        return (self.method, shape(urlsplit(self.action).path), tuple(n for n, *_ in self.fields))


@dataclass
class Failure:
    method: str
    url: str
    field: str
    value: str
    status: int

    def __str__(self) -> str:
        shown = self.value if len(self.value) < 30 else f"{self.value[:12]}…({len(self.value)})"
        url = self.url if len(self.url) < 120 else f"{self.url[:100]}…"
        return f"{self.status}: {self.method} {url} with {self.field}={shown!r}"


@dataclass
class Report:
    pages: int = 0
    requests: int = 0
    failures: list[Failure] = field(default_factory=list)
    seen_forms: set = field(default_factory=set)
    seen_pages: set = field(default_factory=set)


def page_key(url: str) -> str:
    """What makes a page worth fetching once: its route shape and the names it is asked with."""
    parts = urlsplit(url)
    names = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    return shape(parts.path) + ("?" + "&".join(names) if names else "")


def shape(path: str) -> str:
    """The route shape of a path: ids and voucher codes replaced by `<n>`, and a report's
    format by `<fmt>` (its CSV, XLSX and PDF read their query string alike)."""
    return _FORMAT.sub("/<fmt>", _ID.sub("/<n>", _CODE.sub("/<n>", path)))


class _PageParser(HTMLParser):
    """The links and forms of a page."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None
        self._textarea: str | None = None
        self._buttons: set[str] = set()

    def _url(self, target: str | None) -> str:
        return urljoin(self.base, target or self.base)

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            method = (a.get("method") or "get").upper()
            self._form = Form(method, self._url(a.get("action")), [])
            self._buttons = set()
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select[1].append(value)
            if "selected" in a:
                self._select[2].append(value)
        elif self._form is None or "name" not in a or "disabled" in a:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image", "reset", "button", "file"):
                if kind == "submit" and a["name"] not in self._buttons:
                    self._buttons.add(a["name"])
                    self._form.fields.append((a["name"], "submit", a.get("value", "")))
                return
            self._form.fields.append((a["name"], kind, a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            if a["name"] not in self._buttons:
                self._buttons.add(a["name"])
                self._form.fields.append((a["name"], "submit", a.get("value", "")))
        elif tag == "select":
            self._select = (a["name"], [], [])
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.fields.append((a["name"], "textarea", ""))

    def handle_data(self, data):
        if self._textarea is not None and self._form is not None:
            name, kind, value = self._form.fields[-1]
            self._form.fields[-1] = (name, kind, value + data)

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self._form is not None:
            name, options, chosen = self._select
            # What the user would pick first: the options after a blank "choose one".
            value = (chosen or [o for o in options if o] or [""])[0]
            self._form.fields.append((name, "select", value))
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def parse_page(url: str, html: str) -> tuple[list[str], list[Form]]:
    parser = _PageParser(url)
    parser.feed(html)
    return parser.links, parser.forms


def _query_forms(links: list[str]) -> list[Form]:
    """Each link with a query string, as the GET form that would have made it."""
    forms = []
    for link in links:
        parts = urlsplit(link)
        if parts.query and not SKIPPED_LINKS.search(parts.path):
            pairs = parse_qsl(parts.query, keep_blank_values=True)
            forms.append(Form("GET", parts.path, [(k, "text", v) for k, v in pairs]))
    return forms


def _variants(form: Form):
    """(field, value, fields to send): every field at once, then each date or number alone."""
    editable = [n for n, kind, _v in form.fields if kind != "submit" and n not in KEPT_AS_GIVEN]
    if not editable:
        return
    for value in EXTREMES:
        yield "*", value, [(n, value if n in editable else v) for n, _k, v in form.fields]
    if len(editable) == 1:  # alone is at once
        return
    kinds = {n: k for n, k, _v in form.fields}
    for name in editable:
        if kinds[name] == "date" or _DATE.search(name):
            values = DATES
        elif kinds[name] == "number" or _NUMBER.search(name):
            values = NUMBERS
        else:
            continue
        for value in values:
            yield name, value, [(n, value if n == name else v) for n, _k, v in form.fields]


def filled(form: Form) -> str:
    """The URL a GET form gives as the page filled it: it may lead to more forms (the issue
    form appears once a scheme is chosen)."""
    return f"{urlsplit(form.action).path}?{urlencode([(n, v) for n, _k, v in form.fields])}"


class Crawler:
    """One role's crawl: `send` talks to the application, `relogin` signs in again when an
    answer sends to the sign-in page. Forms and route shapes already seen (in `report`, which
    several crawls may share) are not fuzzed or fetched again."""

    def __init__(self, send: Send, relogin: Callable[[], None], report: Report | None = None):
        self.send, self.relogin = send, relogin
        self.report = report or Report()

    def crawl(self, start: tuple[str, ...] = ("/",), max_pages: int = 60) -> Report:
        """Follow the links from `start`, one URL per route shape, fuzzing every form and
        query string found on the way."""
        queue, queued = deque(start), {page_key(u) for u in start}
        seen = self.report.seen_pages  # pages some crawl has read: not read again
        pages = 0
        while queue and pages < max_pages:
            url = queue.popleft()
            answer = self._send("GET", url, None, "", "")
            pages += 1
            self.report.pages += 1
            if answer.status == 200:
                seen.add(page_key(url))
            for link in self.fuzz_page(url, answer):
                key = page_key(link)
                if (
                    key not in seen
                    and key not in queued
                    and not SKIPPED_LINKS.search(urlsplit(link).path)
                ):
                    queued.add(key)
                    queue.append(link)
        return self.report

    def fuzz_page(self, url: str, answer: Answer) -> list[str]:
        """Fuzz the forms and query strings of a page not yet fuzzed; return its links."""
        if answer.status != 200 or "html" not in answer.content_type:
            return []
        links, forms = parse_page(url, answer.text)
        for form in [*forms, *_query_forms(links)]:
            if SKIPPED_ACTIONS.match(shape(urlsplit(form.action).path)):
                continue
            if form.key() not in self.report.seen_forms:
                self.report.seen_forms.add(form.key())
                self.fuzz_form(form)
            if form.method == "GET":
                links.append(filled(form))
        return links

    def fuzz_form(self, form: Form) -> None:
        """Send `form` back with every variant."""
        path, base_query = urlsplit(form.action).path, urlsplit(form.action).query
        for name, value, pairs in _variants(form):
            if form.method == "GET":
                query = "&".join(q for q in (base_query, urlencode(pairs)) if q)
                self._send("GET", f"{path}?{query}", None, name, value)
            else:
                url = f"{path}?{base_query}" if base_query else path
                self._send("POST", url, pairs, name, value)

    def _send(self, method, url, pairs, name, value) -> Answer:
        answer = self.send(method, url, pairs)
        self.report.requests += 1
        if answer.status >= 500:
            self.report.failures.append(Failure(method, url, name, value, answer.status))
        if answer.status in (301, 302, 303) and "/accesso" in answer.location:
            self.relogin()
        return answer


def sign_in(send: Send, login_path: str, fields: dict[str, str]) -> Answer:
    """Fill the sign-in form found at `login_path` (its hidden fields as given) and send it."""
    page = send("GET", login_path, None)
    _links, forms = parse_page(login_path, page.text)
    form = next(f for f in forms if set(fields) <= {n for n, _k, _v in f.fields})
    pairs = [(n, fields.get(n, v)) for n, _k, v in form.fields]
    return send("POST", urlsplit(form.action).path or login_path, pairs)


STAFF_ROLES = ("admin", "social_worker", "provider", "auditor", "finance")


def crawl_everyone(
    new_send: Callable[[], Send],
    logins: list[dict],
    max_pages: int = 60,
    then: Callable[[str, "Crawler"], None] | None = None,
    progress: Callable[[str, Report], None] | None = None,
) -> Report:
    """Crawl as every demo login (`role`, `username`, `password`: staff sign in on
    /accesso, a voucher's code and PIN on /saldo), then as nobody; each with a session of
    its own (`new_send()`). `then(role, crawler)` may fuzz pages no link leads to."""
    report = Report()
    for login in [*logins, {"role": "anonimo"}]:
        role = login["role"]
        if role in STAFF_ROLES:
            path, start = "/accesso", ("/",)
            fields = {"username": login["username"], "password": login["password"]}
        elif role == "buono":
            path, start = "/saldo", ("/saldo/buono",)
            fields = {"code": login["username"], "pin": login["password"]}
        elif role == "anonimo":
            path, start, fields = None, ("/", "/saldo"), {}
        else:  # an API key: the API's own fuzzing
            continue
        send = new_send()

        def relogin(send=send, path=path, fields=fields):
            if path is not None:
                sign_in(send, path, fields)

        crawler = Crawler(send, relogin, report)
        relogin()
        crawler.crawl(start, max_pages=max_pages)
        if then is not None:
            then(role, crawler)
        if progress is not None:
            progress(role, report)
    return report
