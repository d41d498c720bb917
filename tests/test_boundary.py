"""The request boundary (voucher.boundary): each view is one transaction, on pages and on the
API. A view that raises after writing leaves nothing written; a refusal that is itself a
fact to keep (a failed sign-in, counted towards the lockout) is committed all the same.

Each test's commits are savepoints of one outer transaction (tests/conftest.py): rolling the
session back after a request undoes whatever the request left uncommitted, so what survives
it is what the boundary committed.
"""

import io

import pytest
from flask import flash, redirect, request
from flask import session as session_now
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests import factories as f
from voucher.errors import Conflict
from voucher.extensions import db
from voucher.models import AuditEvent, Provider
from voucher.services import SYSTEM, providers, sign_in

# A page and an endpoint whose views are swapped, for one test, for a view that writes
# and then fails.
DOORS = {
    "page": ("admin.provider_new", "/admin/fornitori/nuovo"),
    "api": ("api_providers.create_provider", "/api/v1/providers"),
}


class Broken(Exception):
    """What a view raises after writing: an error nobody foresaw."""


def provider_count() -> int:
    return db.session.execute(select(func.count()).select_from(Provider)).scalar_one()


def writing_then_failing(error: Exception):
    def view(*_args, **_kwargs):
        providers.create_provider(SYSTEM, name="Cooperativa a metà", vat_number=f.valid_vat())
        db.session.flush()
        assert provider_count() == before + 1  # written, not yet committed
        raise error

    before = provider_count()
    return view


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_view_that_raises_after_writing_leaves_nothing_written(app, client, monkeypatch, door):
    f.make_ente()
    endpoint, url = DOORS[door]
    before = provider_count()
    monkeypatch.setitem(app.view_functions, endpoint, writing_then_failing(Broken("a metà")))
    response = client.post(url, json={}) if door == "api" else client.post(url, data={})
    assert response.status_code == 500
    if door == "api":
        assert response.mimetype == "application/problem+json"
    else:
        assert "Errore del sistema" in response.get_data(as_text=True)
    db.session.rollback()  # drops whatever the request left uncommitted
    assert provider_count() == before
    created = select(AuditEvent).where(AuditEvent.action == "provider.created")
    assert db.session.execute(created).first() is None


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_refusal_after_writing_leaves_nothing_written(app, client, monkeypatch, door):
    f.make_ente()
    endpoint, url = DOORS[door]
    before = provider_count()
    refusal = Conflict("Operazione rifiutata dopo una scrittura.")
    monkeypatch.setitem(app.view_functions, endpoint, writing_then_failing(refusal))
    response = client.post(url, json={}) if door == "api" else client.post(url, data={})
    assert response.status_code == 409
    assert "Operazione rifiutata dopo una scrittura." in response.get_data(as_text=True)
    db.session.rollback()
    assert provider_count() == before


def _failed_logins(user) -> int:
    db.session.rollback()  # drops whatever the request left uncommitted
    return sign_in.failure_count(user.username, "127.0.0.1")


def test_a_failed_sign_in_on_a_page_is_counted_although_refused(app, client):
    f.make_ente()
    user = f.make_user("admin")
    for attempt in (1, 2):
        response = client.post("/accesso", data={"username": user.username, "password": "no"})
        assert response.status_code == 200
        assert "Nome utente o password non corretti" in response.get_data(as_text=True)
        assert _failed_logins(user) == attempt


def test_a_failed_sign_in_on_the_api_is_counted_although_refused(app, client):
    f.make_ente()
    user = f.make_user("admin")
    for attempt in (1, 2):
        response = client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": "no"}
        )
        assert response.status_code == 401
        assert response.get_json()["code"] == "invalid_credentials"
        assert _failed_logins(user) == attempt


class Deadlock(Exception):
    """What the driver raises when PostgreSQL picks this transaction as a deadlock's victim."""

    sqlstate = "40P01"


def test_a_view_run_again_after_a_deadlock_shows_its_message_once_and_reads_its_upload_again(
    app, client, monkeypatch
):
    """The boundary runs the whole view again: the second run must not find its flash message
    already there, nor its uploaded file already read to the end."""
    runs = []

    def view():
        runs.append(request.files["file"].read())
        flash("Lotto caricato.", "success")
        if len(runs) == 1:
            raise OperationalError("UPDATE scheme …", {}, Deadlock())
        return redirect("/")

    monkeypatch.setitem(app.view_functions, "admin.provider_new", view)
    upload = {"file": (io.BytesIO(b"codice_fiscale\nRSSMRA80A01H501U\n"), "lotto.csv")}
    response = client.post("/admin/fornitori/nuovo", data=upload)
    assert response.status_code == 302
    assert runs == [b"codice_fiscale\nRSSMRA80A01H501U\n"] * 2
    with client.session_transaction() as session:
        assert session["_flashes"] == [("success", "Lotto caricato.")]


def test_a_view_run_again_starts_from_the_session_as_it_came(app, client, monkeypatch):
    """A one-time token the first run took from the session is there again for the second,
    which the first run's rollback left with nothing done."""
    with client.session_transaction() as session:
        session["once"] = ["token-1"]
    taken = []

    def view():
        taken.append(session_now["once"].pop())
        if len(taken) == 1:
            raise OperationalError("UPDATE voucher …", {}, Deadlock())
        return redirect("/")

    monkeypatch.setitem(app.view_functions, "admin.provider_new", view)
    assert client.post("/admin/fornitori/nuovo", data={}).status_code == 302
    assert taken == ["token-1", "token-1"]
    with client.session_transaction() as session:
        assert session["once"] == []


def test_a_view_whose_work_is_not_kept_leaves_no_success_message(app, client, monkeypatch):
    """The view said "done", then its work was rolled back: the next page must not say so."""

    def view():
        flash("Fornitore registrato.", "success")
        raise Broken("dopo il messaggio")

    monkeypatch.setitem(app.view_functions, "admin.provider_new", view)
    response = client.post("/admin/fornitori/nuovo", data={})
    assert response.status_code == 500
    assert "Fornitore registrato." not in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "_flashes" not in session
