"""Who sees which person: a social worker sees only the people and vouchers of the Comuni
assigned to them (404 elsewhere, on pages and API alike), may open one record outside them
with a reason (break-glass, audited and reported to the admin), and every read of a person
or a voucher is an audit event naming the object and the purpose, never the personal data."""

import json
from datetime import timedelta

import pytest
from flask import g
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import factories as f
from voucher.extensions import db
from voucher.models import AuditEvent, Comune, Voucher
from voucher.services import batch_files, batches, clock

READ_ACTIONS = (
    "beneficiary.read",
    "beneficiary.searched",
    "voucher.read",
    "voucher.letter_read",
    "access.break_glass",
)


class World:
    """Two Comuni of the ente, a person with a voucher in each, and a social worker whom the
    admin assigned Firenze only, on the worker's user page."""

    def __init__(self, app):
        f.make_ente()
        self.scheme = f.make_scheme()
        self.ours = f.make_beneficiary(comune=f.FIRENZE, address="Via Roma 1")
        self.theirs = f.make_beneficiary(comune=f.FIESOLE, address="Via Gramsci 9")
        firenze = db.session.execute(
            select(Comune).where(Comune.istat_code == f.FIRENZE["istat_code"])
        ).scalar_one()
        self.firenze_id = firenze.id
        self.worker = f.make_user("social_worker")
        self.admin = f.make_user("admin")
        self.auditor = f.make_user("auditor")
        db.session.commit()
        api = app.test_client()
        token = f.api_token(api, self.admin)
        self.our_voucher, self.their_voucher = (
            self._issue(api, token, person) for person in (self.ours, self.theirs)
        )
        signed_in(app, self.admin).post(
            f"/admin/utenti/{self.worker.id}/comuni", data={"team-comuni": [str(firenze.id)]}
        )

    def _issue(self, api, token, person) -> Voucher:
        issued = api.post(
            "/api/v1/vouchers",
            json={"scheme_id": self.scheme.id, "beneficiary_id": person.id},
            headers=token,
        )
        assert issued.status_code == 201, issued.get_json()
        code = issued.get_json()["code"]
        return db.session.execute(select(Voucher).where(Voucher.code == code)).scalar_one()


@pytest.fixture
def world(app):
    return World(app)


class _Browser(FlaskClient):
    """A browser of its own: the tests keep one application context open, whose `g` would
    otherwise still hold the user Flask-Login loaded for another browser's last request."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


def signed_in(app, user):
    client = _Browser(app, app.response_class, use_cookies=True)
    f.login(client, user)
    return client


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).scalars()
    )


def personal_data(person) -> list[str]:
    return [person.fiscal_code, person.first_name, person.last_name, person.address]


def assert_no_personal_data(event: AuditEvent, person) -> None:
    text = json.dumps([event.object_id, event.data], ensure_ascii=False).lower()
    for value in personal_data(person):
        assert value.lower() not in text, (event.action, value)


def test_a_social_worker_sees_and_acts_only_within_their_comuni(app, world):
    worker = signed_in(app, world.worker)
    theirs, their_voucher = world.theirs, world.their_voucher

    for url in (
        f"/servizi/beneficiari/{theirs.id}",
        f"/servizi/beneficiari/{theirs.id}/modifica",
        f"/servizi/beneficiari/{theirs.id}/emetti",
        f"/servizi/beneficiari/{theirs.id}/isee",
        f"/servizi/buoni/{their_voucher.id}",
        f"/servizi/buoni/{their_voucher.id}/lettera.pdf",
        f"/servizi/buoni/{their_voucher.id}/revoca",
    ):
        response = worker.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 404, url
        assert "Accesso straordinario" in html, url  # the way in, with a reason
        assert theirs.last_name not in html and "Fiesole" not in html, url
    revoke = worker.post(f"/servizi/buoni/{their_voucher.id}/revoca", data={"reason": "Prova"})
    assert revoke.status_code == 404
    issue = worker.post(f"/servizi/beneficiari/{theirs.id}/emetti", data={"scheme_id": "1"})
    assert issue.status_code == 404
    db.session.refresh(their_voucher)
    assert their_voucher.status == "active"

    # Searches and lists leave them out; a codice fiscale typed in full says where to ask.
    found = worker.post("/servizi/beneficiari", data={"q": theirs.fiscal_code})
    html = found.get_data(as_text=True)
    assert theirs.last_name not in html and f"/servizi/beneficiari/{theirs.id}" in html
    assert "seguita da un Comune che non è assegnato" in html
    by_name = worker.post("/servizi/beneficiari", data={"q": theirs.last_name})
    assert f'/servizi/beneficiari/{theirs.id}"' not in by_name.get_data(as_text=True)
    latest = worker.get("/servizi/buoni").get_data(as_text=True)
    assert their_voucher.code not in latest and world.our_voucher.code in latest

    # Their own Comune's person and voucher are there as before.
    assert worker.get(f"/servizi/beneficiari/{world.ours.id}").status_code == 200
    assert worker.get(f"/servizi/buoni/{world.our_voucher.id}").status_code == 200
    mine = worker.post("/servizi/beneficiari", data={"q": world.ours.fiscal_code})
    assert world.ours.last_name in mine.get_data(as_text=True)

    # The admin keeps the whole view, and so does a social worker with no Comune assigned.
    for user in (world.admin, f.make_user("social_worker")):
        client = signed_in(app, user)
        assert client.get(f"/servizi/beneficiari/{theirs.id}").status_code == 200
        assert client.get(f"/servizi/buoni/{their_voucher.id}").status_code == 200


def test_the_api_answers_404_outside_the_comuni_and_the_whole_view_elsewhere(app, client, world):
    worker = f.api_token(client, world.worker)
    theirs, their_voucher = world.theirs, world.their_voucher

    person = client.get(f"/api/v1/beneficiaries/{theirs.id}", headers=worker)
    assert person.status_code == 404 and person.get_json()["code"] == "not_found"
    assert client.get(f"/api/v1/beneficiaries/{theirs.id}/isee", headers=worker).status_code == 404
    edit = client.patch(
        f"/api/v1/beneficiaries/{theirs.id}", json={"phone": "055 1"}, headers=worker
    )
    assert edit.status_code == 404
    search = client.get(
        "/api/v1/beneficiaries", query_string={"fiscal_code": theirs.fiscal_code}, headers=worker
    )
    assert search.status_code == 200 and search.get_json() == []
    voucher = client.get(f"/api/v1/vouchers/{their_voucher.code}", headers=worker)
    assert voucher.status_code == 404 and voucher.get_json()["code"] == "voucher_not_found"
    for path in ("pdf",):
        assert (
            client.get(f"/api/v1/vouchers/{their_voucher.code}/{path}", headers=worker).status_code
            == 404
        )
    revoke = client.post(
        f"/api/v1/vouchers/{their_voucher.code}/revoke", json={"reason": "Prova"}, headers=worker
    )
    assert revoke.status_code == 404
    issue = client.post(
        "/api/v1/vouchers",
        json={"scheme_id": world.scheme.id, "beneficiary_id": theirs.id},
        headers=worker,
    )
    assert issue.status_code == 422 and "beneficiary_id" in issue.get_json()["errors"]

    ours = client.get(f"/api/v1/beneficiaries/{world.ours.id}", headers=worker)
    assert ours.status_code == 200
    assert (
        client.get(f"/api/v1/vouchers/{world.our_voucher.code}", headers=worker).status_code == 200
    )

    admin = f.api_token(client, world.admin)
    assert client.get(f"/api/v1/beneficiaries/{theirs.id}", headers=admin).status_code == 200
    auditor = f.api_token(client, world.auditor)
    assert client.get(f"/api/v1/vouchers/{their_voucher.code}", headers=auditor).status_code == 200


def test_a_social_worker_charges_vouchers_only_to_their_comuni(app, client, world):
    token = f.api_token(client, world.worker)
    elsewhere = client.post(
        "/api/v1/vouchers",
        json={
            "scheme_id": world.scheme.id,
            "beneficiary_id": world.ours.id,
            "comune_istat": f.FIESOLE["istat_code"],
        },
        headers=token,
    )
    assert elsewhere.status_code == 422, elsewhere.get_json()
    assert "comune_istat" in elsewhere.get_json()["errors"]
    page = signed_in(app, world.worker).get(
        f"/servizi/beneficiari/{world.ours.id}/emetti", query_string={"misura": world.scheme.id}
    )
    options = page.get_data(as_text=True)
    assert f'value="{f.FIRENZE["istat_code"]}"' in options
    assert f'value="{f.FIESOLE["istat_code"]}"' not in options

    # Bulk issuance: a person outside the team is as if not registered.
    rows = [
        batch_files.UploadedRow(2, world.ours.fiscal_code),
        batch_files.UploadedRow(3, world.theirs.fiscal_code),
    ]
    planned = batches.dry_run(world.scheme, rows, actor=f.actor(world.worker))
    assert [(p.outcome, p.reason) for p in planned] == [
        ("issue", None),
        ("refused", "unknown_beneficiary"),
    ]
    everyone = batches.dry_run(world.scheme, rows, actor=f.actor(world.admin))
    assert [p.outcome for p in everyone] == ["issue", "issue"]


def test_break_glass_opens_one_record_for_the_day_with_a_reason_audited_and_reported(
    app, client, runner, world, monkeypatch
):
    worker = signed_in(app, world.worker)
    theirs = world.theirs
    ask = f"/servizi/accesso-straordinario/beneficiario/{theirs.id}"

    short = worker.post(ask, data={"reason": "urgente"})
    assert short.status_code == 422 and "Accesso straordinario" in short.get_data(as_text=True)
    assert events("access.break_glass") == []

    reason = "Sostituisco la collega di Fiesole in ferie"
    granted = worker.post(ask, data={"reason": reason})
    assert granted.status_code == 302
    assert granted.headers["Location"].endswith(f"/servizi/beneficiari/{theirs.id}")
    page = worker.get(f"/servizi/beneficiari/{theirs.id}")
    assert page.status_code == 200 and theirs.last_name in page.get_data(as_text=True)
    # The access opens the person's vouchers, and the API honours it too.
    assert worker.get(f"/servizi/buoni/{world.their_voucher.id}").status_code == 200
    token = f.api_token(client, world.worker)
    assert client.get(f"/api/v1/beneficiaries/{theirs.id}", headers=token).status_code == 200

    (event,) = events("access.break_glass")
    assert (event.object_type, event.object_id) == ("beneficiary", str(theirs.id))
    assert event.actor_label == world.worker.username and event.data["reason"] == reason
    read = [e for e in events("beneficiary.read") if e.object_id == str(theirs.id)][-1]
    assert read.data["purpose"] == reason  # why it was read: the reason given

    admin = signed_in(app, world.admin)
    report = admin.get("/admin/utenti/accessi-straordinari").get_data(as_text=True)
    assert reason in report and world.worker.username in report
    printed = runner.invoke(args=["break-glass-report", "--days", "7"])
    assert printed.exit_code == 0 and reason in printed.output

    # Tomorrow (signed in again) the record is out of reach again.
    tomorrow = clock.now() + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: tomorrow)
    worker = signed_in(app, world.worker)
    assert worker.get(f"/servizi/beneficiari/{theirs.id}").status_code == 404
    token = f.api_token(client, world.worker)
    assert client.get(f"/api/v1/beneficiaries/{theirs.id}", headers=token).status_code == 404


def test_every_read_is_one_event_naming_the_object_and_purpose_not_the_data(app, client, world):
    admin = signed_in(app, world.admin)
    person, voucher = world.theirs, world.their_voucher
    token = f.api_token(client, world.admin)
    before = {action: len(events(action)) for action in READ_ACTIONS}

    assert admin.get(f"/servizi/beneficiari/{person.id}").status_code == 200
    assert admin.post("/servizi/beneficiari", data={"q": person.fiscal_code}).status_code == 200
    assert admin.get(f"/servizi/buoni/{voucher.id}/lettera.pdf").status_code == 200
    assert client.get(f"/api/v1/beneficiaries/{person.id}", headers=token).status_code == 200
    lookup = client.get(
        "/api/v1/beneficiaries", query_string={"fiscal_code": person.fiscal_code}, headers=token
    )
    assert [p["id"] for p in lookup.get_json()] == [person.id]
    assert client.get(f"/api/v1/vouchers/{voucher.code}", headers=token).status_code == 200
    assert client.get(f"/api/v1/vouchers/{voucher.code}/pdf", headers=token).status_code == 200

    added = {action: events(action)[before[action] :] for action in READ_ACTIONS}
    page_read, api_read = added["beneficiary.read"]  # one event per request
    for event in (page_read, api_read):
        assert (event.object_type, event.object_id) == ("beneficiary", str(person.id))
        assert event.data["purpose"] == "consultazione"
    searches = added["beneficiary.searched"]
    assert [e.data["ids"] for e in searches] == [[person.id], [person.id]]
    assert {e.data["purpose"] for e in searches} == {"ricerca per codice fiscale"}
    (voucher_read,) = added["voucher.read"]
    assert (voucher_read.object_type, voucher_read.object_id) == ("voucher", str(voucher.id))
    letters = added["voucher.letter_read"]
    assert len(letters) == 2 and {e.data["purpose"] for e in letters} == {"stampa lettera"}
    for event in [page_read, api_read, *searches, voucher_read, *letters]:
        assert event.actor_label == world.admin.username and event.at is not None
        assert_no_personal_data(event, person)


def test_the_audit_log_filters_the_reads_of_personal_data_and_by_user(app, world):
    worker = signed_in(app, world.worker)
    assert worker.get(f"/servizi/beneficiari/{world.ours.id}").status_code == 200
    signed_in(app, world.admin).get(f"/servizi/beneficiari/{world.theirs.id}")
    auditor = signed_in(app, world.auditor)

    reads = auditor.get("/rendiconti/registro", query_string={"consultazioni": "y"})
    html = reads.get_data(as_text=True)
    assert reads.status_code == 200
    assert "<code>beneficiary.read</code>" in html
    assert "<code>beneficiary.registered</code>" not in html
    assert "<code>user.login</code>" not in html
    by_worker = auditor.get(
        "/rendiconti/registro",
        query_string={"consultazioni": "y", "autore": f"user:{world.worker.id}"},
    ).get_data(as_text=True)
    assert "<code>beneficiary.read</code>" in by_worker
    assert world.admin.username not in by_worker.split('id="events-table"')[1]
    everything = auditor.get("/rendiconti/registro").get_data(as_text=True)
    assert "<code>beneficiary.registered</code>" in everything


def test_the_admin_assigns_a_social_workers_comuni_on_the_user_page(app, world):
    admin = signed_in(app, world.admin)
    other = f.make_user("social_worker")
    page = admin.get(f"/admin/utenti/{other.id}").get_data(as_text=True)
    assert "Tutti i Comuni dell" in page and "(nessuno assegnato)" in page

    saved = admin.post(
        f"/admin/utenti/{other.id}/comuni", data={"team-comuni": [str(world.firenze_id)]}
    )
    assert saved.status_code == 302
    page = admin.get(f"/admin/utenti/{other.id}").get_data(as_text=True)
    assert "Firenze" in page and "nessuno assegnato" not in page
    (event,) = [e for e in events("user.team_set") if e.object_id == str(other.id)]
    assert event.data["comuni"] == [f.FIRENZE["istat_code"]]
    assert signed_in(app, other).get(f"/servizi/beneficiari/{world.theirs.id}").status_code == 404

    cleared = admin.post(f"/admin/utenti/{other.id}/comuni", data={})
    assert cleared.status_code == 302
    assert signed_in(app, other).get(f"/servizi/beneficiari/{world.theirs.id}").status_code == 200
