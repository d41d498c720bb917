"""PINs and letters under attack: batch letters that leave the server once downloaded or
after BATCH_LETTERS_KEEP_DAYS; forms that create vouchers or PINs acting once however they
are replayed (old cookie, second tab, two submissions at once); the letter kept from the
auditor; and the staff's letter-with-PIN form that is no PIN oracle."""

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories as f
from tests.api.voucher_world import assert_problem, bearer
from tests.conftest import make_app
from tests.web.social_world import form_token, make_social_world, pin_on_page
from voucher import jobs
from voucher.extensions import db
from voucher.models import AuditEvent, FormToken, IssueBatch, IssueBatchDocument, Voucher
from voucher.services import SYSTEM, batches, clock, codes, form_tokens, issuance

COOKIE = "voucher_session"


@pytest.fixture
def world(app):
    return make_social_world()


@pytest.fixture
def staff(client, world):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def count(model, *where) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars())


def done_batch(world, people: int = 2) -> IssueBatch:
    """A batch issued to the end, its letters (with the PINs) stored."""
    rows = "\r\n".join(f.make_beneficiary().fiscal_code for _ in range(people))
    batch = batches.create_batch(SYSTEM, world.scheme, f"codice_fiscale\r\n{rows}\r\n".encode())
    batches.confirm_batch(SYSTEM, batch)
    db.session.commit()
    assert jobs.run_pending() == 1
    db.session.refresh(batch)
    assert batch.status == "done" and batch.issued == people
    return batch


def letters_kept(batch) -> int:
    return count(IssueBatchDocument, IssueBatchDocument.batch_id == batch.id)


# 1. PINs in clear at rest: the batch letters


def test_batch_letters_are_handed_out_once_then_gone(client, world, staff):
    batch = done_batch(world)
    url = f"/servizi/lotti/{batch.id}/lettere.pdf"
    page = client.get(f"/servizi/lotti/{batch.id}").get_data(as_text=True)
    assert "si può scaricare una sola volta" in page and f'action="{url}"' in page

    first = client.post(url)
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    assert first.headers["Cache-Control"] == "no-store"
    # A second download, a second tab or a replayed link: the PINs are no longer there.
    for again in (client.post(url), client.get(url)):
        assert again.status_code == 404
        assert "già state scaricate" in again.get_data(as_text=True)
    assert letters_kept(batch) == 0

    db.session.refresh(batch)
    assert (batch.letters_removed_reason, batch.letters_removed_by_id) == ("downloaded", staff.id)
    page = client.get(f"/servizi/lotti/{batch.id}").get_data(as_text=True)
    assert "Le lettere con i PIN sono state scaricate il" in page
    assert f"da {staff.username} e non si possono più scaricare" in page
    assert "crea un nuovo PIN" in page
    assert url not in page
    # The codes for mailing (no PIN) stay available.
    assert client.get(f"/servizi/lotti/{batch.id}/codici.csv").status_code == 200
    db.session.commit()
    (downloaded,) = events("batch.letters_downloaded")
    assert downloaded.actor_id == staff.id and downloaded.data == {"erased": True}


def test_letters_nobody_downloads_are_deleted_by_the_nightly_job(
    app, client, runner, world, staff, monkeypatch
):
    batch, other = done_batch(world), done_batch(world, people=1)
    real_now = clock.now()

    def nightly(days_later: int):
        monkeypatch.setattr(clock, "now", lambda: real_now + timedelta(days=days_later))
        result = runner.invoke(args=["expire"])
        assert result.exit_code == 0, result.output
        db.session.expire_all()
        return result.output

    assert "Lotti con lettere eliminate (oltre 7 giorni): 0." in nightly(6)
    assert letters_kept(batch) == letters_kept(other) == 1
    assert "(oltre 7 giorni): 2." in nightly(8)  # the default, BATCH_LETTERS_KEEP_DAYS=7
    assert letters_kept(batch) == letters_kept(other) == 0
    assert batch.letters_removed_reason == "expired" and batch.letters_removed_by_id is None
    monkeypatch.setattr(clock, "now", lambda: real_now)  # the staff session's own clock
    page = client.get(f"/servizi/lotti/{batch.id}").get_data(as_text=True)
    assert "eliminate automaticamente" in page
    assert client.post(f"/servizi/lotti/{batch.id}/lettere.pdf").status_code == 404

    # The number of days is a setting.
    third = done_batch(world, people=1)
    monkeypatch.setitem(app.config, "BATCH_LETTERS_KEEP_DAYS", 2)
    assert "(oltre 2 giorni): 1." in nightly(3)
    assert letters_kept(third) == 0
    assert len(events("batch.letters_expired")) == 3


# 3. Forms that create vouchers or PINs act once


def test_a_replayed_or_second_tab_issue_form_issues_one_voucher(client, world, staff):
    person = f.make_beneficiary()
    scheme = f.make_scheme(
        face_value_cents=10_000, budget_cents=10_000_000, max_active_per_beneficiary=10
    )
    page = f"/servizi/beneficiari/{person.id}/emetti?misura={scheme.id}"
    # The same form in two tabs, and the cookie as it was after both were shown.
    first_tab = form_token(client.get(page).get_data(as_text=True))
    second_tab = form_token(client.get(page).get_data(as_text=True))
    old_cookie = client.get_cookie(COOKIE).value
    post = f"/servizi/beneficiari/{person.id}/emetti"

    issued = client.post(post, data={"scheme_id": scheme.id, "token": second_tab})
    assert "Il PIN è mostrato solo ora" in issued.get_data(as_text=True)
    for _round in range(3):
        for token in (first_tab, second_tab):
            client.set_cookie(COOKIE, old_cookie)
            again = client.post(
                post, data={"scheme_id": scheme.id, "token": token}, follow_redirects=True
            )
            assert "già stata inviata" in again.get_data(as_text=True)
            assert "Il PIN è mostrato solo ora" not in again.get_data(as_text=True)
    assert count(Voucher, Voucher.beneficiary_id == person.id) == 1

    # A token is bound to its user, its form and its object.
    other = f.make_beneficiary()
    stolen = form_token(client.get(page).get_data(as_text=True))
    refused = client.post(
        f"/servizi/beneficiari/{other.id}/emetti", data={"scheme_id": scheme.id, "token": stolen}
    )
    assert refused.status_code == 302
    assert count(Voucher, Voucher.beneficiary_id == other.id) == 0
    # Only digests are kept.
    digests = db.session.execute(select(FormToken.digest)).scalars().all()
    assert stolen not in digests and len(digests) >= 2


def test_a_replayed_new_pin_form_makes_one_pin(client, world, staff):
    url = f"/servizi/buoni/{world.voucher.id}/nuovo-pin"
    first_tab = form_token(client.get(url).get_data(as_text=True))
    second_tab = form_token(client.get(url).get_data(as_text=True))
    old_cookie = client.get_cookie(COOKIE).value
    shown = client.post(url, data={"reason": "PIN dimenticato", "token": second_tab})
    pin = pin_on_page(shown.get_data(as_text=True))
    for token in (first_tab, second_tab, first_tab):
        client.set_cookie(COOKIE, old_cookie)
        again = client.post(url, data={"reason": "PIN dimenticato", "token": token})
        assert again.status_code == 302
    db.session.commit()
    assert len(events("voucher.pin_reset")) == 1
    db.session.refresh(world.voucher)
    voucher = world.voucher
    assert codes.pin_matches(issuance.pin_pepper(), voucher.pin_salt, pin, voucher.pin_hash)


def test_a_replaced_voucher_is_replaced_once(client, world, staff):
    url = f"/servizi/buoni/{world.voucher.id}/sostituisci"
    token = form_token(client.get(url).get_data(as_text=True))
    old_cookie = client.get_cookie(COOKIE).value
    assert client.post(url, data={"reason": "Smarrito", "token": token}).status_code == 200
    client.set_cookie(COOKIE, old_cookie)
    replay = client.post(url, data={"reason": "Smarrito", "token": token}, follow_redirects=True)
    assert "già stata inviata" in replay.get_data(as_text=True)
    assert count(Voucher, Voucher.replaces_id == world.voucher.id) == 1


def test_a_refused_issue_gives_the_token_back_and_old_tokens_expire(app, world, staff):
    user_id = staff.id
    token = form_tokens.new_token(user_id, "issue", "beneficiary:1")
    db.session.commit()
    with db.session.begin_nested() as savepoint:
        assert form_tokens.use_token(user_id, "issue", "beneficiary:1", token)
        savepoint.rollback()  # the action was refused: nothing happened, the token is unused
    assert form_tokens.use_token(user_id, "issue", "beneficiary:1", token)
    assert not form_tokens.use_token(user_id, "issue", "beneficiary:1", token)
    stale = form_tokens.new_token(user_id, "issue", "beneficiary:2")
    db.session.commit()
    later = clock.now() + form_tokens.TOKEN_LIFETIME + timedelta(minutes=1)
    assert form_tokens.purge_tokens(later) >= 2
    assert not form_tokens.use_token(user_id, "issue", "beneficiary:2", stale)


def test_a_replayed_batch_confirmation_issues_the_batch_once(client, world, staff):
    # The bulk confirmation's one-time token is the draft itself, confirmed under its lock.
    url = f"/servizi/lotti/{world.batch.id}/conferma"
    assert client.post(url).status_code == 302
    replay = client.post(url, follow_redirects=True)
    assert "già stato confermato" in replay.get_data(as_text=True)
    assert jobs.run_pending() == 1
    assert count(Voucher, Voucher.batch_id == world.batch.id) == 1


@pytest.fixture
def pg_app(postgres_url, tmp_path):
    """An application on a fresh PostgreSQL database, committing for real."""
    app = make_app(
        postgres_url,
        tmp_path,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 12, "max_overflow": 0, "pool_timeout": 60},
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def submit_together(app, cookie: str, requests: list[tuple[str, dict]]) -> list[int]:
    """Send the requests at once, each from its own client carrying the same cookie."""
    barrier = threading.Barrier(len(requests))
    statuses = [0] * len(requests)

    def send(i):
        client = app.test_client()
        client.set_cookie(COOKIE, cookie)
        barrier.wait(timeout=60)
        url, data = requests[i]
        statuses[i] = client.post(url, data=data).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


@pytest.mark.postgres_only
def test_simultaneous_submissions_issue_once_on_postgresql(pg_app):
    with pg_app.app_context():
        world = make_social_world()
        person = f.make_beneficiary()
        scheme = f.make_scheme(
            face_value_cents=10_000, budget_cents=10_000_000, max_active_per_beneficiary=10
        )
        user = f.make_user("social_worker")
        batch_id, person_id, scheme_id = world.batch.id, person.id, scheme.id
        client = pg_app.test_client()
        f.login(client, user)
    page = client.get(f"/servizi/beneficiari/{person_id}/emetti?misura={scheme_id}")
    token = form_token(page.get_data(as_text=True))
    cookie = client.get_cookie(COOKIE).value

    issue = (f"/servizi/beneficiari/{person_id}/emetti", {"scheme_id": scheme_id, "token": token})
    statuses = submit_together(pg_app, cookie, [issue] * 4)
    assert sorted(statuses) == [200, 302, 302, 302]  # one PIN page, three refusals
    confirm = (f"/servizi/lotti/{batch_id}/conferma", {})
    assert submit_together(pg_app, cookie, [confirm] * 4) == [302] * 4
    with pg_app.app_context():
        assert count(Voucher, Voucher.beneficiary_id == person_id) == 1
        assert len(events("batch.confirmed")) == 1
        db.session.remove()


# 6. The auditor reads reports, the audit trail and SIUSS: not letters


def test_the_auditor_cannot_get_a_letter(client, world):
    auditor = f.make_user("auditor")
    response = client.get(f"/api/v1/vouchers/{world.voucher.code}/pdf", headers=bearer(auditor))
    assert_problem(response, 403, "forbidden")
    f.login(client, auditor)
    assert client.get(f"/servizi/buoni/{world.voucher.id}/lettera.pdf").status_code == 403
    staff = f.make_user("social_worker")
    assert client.get(
        f"/api/v1/vouchers/{world.voucher.code}/pdf", headers=bearer(staff)
    ).data.startswith(b"%PDF")


# 9. The staff's letter-with-PIN form is no PIN oracle


def wrong_pin(right: str, i: int = 0) -> str:
    return next(p for p in (f"{i:06d}", f"{i + 1:06d}") if p != right)


def print_with_pin(client, voucher, pin: str):
    return client.post(
        f"/servizi/buoni/{voucher.id}/lettera-con-pin", data={"pin": pin}, follow_redirects=True
    )


def test_the_letter_pin_check_shares_the_lockout_and_is_audited(client, world, staff):
    voucher, pin = world.voucher, world.pin
    for i in range(5):
        refused = print_with_pin(client, voucher, wrong_pin(pin, i))
        assert refused.mimetype == "text/html"
        assert "Il PIN non corrisponde" in refused.get_data(as_text=True)
    # Locked: even the right PIN prints nothing, so the form tells nothing more.
    locked = print_with_pin(client, voucher, pin)
    assert locked.mimetype == "text/html"
    assert "Troppi PIN errati su questo buono" in locked.get_data(as_text=True)
    # The same lock the beneficiary meets on /saldo and the API.
    balance = client.post("/api/v1/balance", json={"code": voucher.code, "pin": pin})
    assert_problem(balance, 429, "locked")
    db.session.commit()
    wrong, refused_events = events("voucher.letter_pin_wrong"), events("voucher.letter_pin_refused")
    assert len(wrong) == 5 and len(refused_events) == 1
    assert refused_events[0].data == {"why": "voucher"}
    for event in wrong + refused_events:
        assert event.actor_id == staff.id and event.object_id == voucher.code
        assert pin not in json.dumps(event.data)


def test_the_letter_pin_check_is_limited_per_user(app, client, world, staff, monkeypatch):
    monkeypatch.setitem(app.config, "STAFF_PIN_CHECKS_PER_HOUR", 3)
    others = [issuance.issue_voucher(SYSTEM, world.scheme, f.make_beneficiary()) for _ in range(2)]
    db.session.commit()
    (first, first_pin), (second, second_pin) = others
    for i in range(3):  # under the voucher's lockout, spread over two vouchers
        target, right = (first, first_pin) if i < 2 else (world.voucher, world.pin)
        assert "Il PIN non corrisponde" in print_with_pin(client, target, wrong_pin(right, i)).text
    limited = print_with_pin(client, second, second_pin)
    assert limited.mimetype == "text/html" and "sospesa per un'ora" in limited.text.replace(
        "&#39;", "'"
    )
    # Another member of staff is not held back, and the right PIN prints.
    colleague = f.make_user("social_worker")
    f.login(client, colleague)
    printed = print_with_pin(client, second, second_pin)
    assert printed.mimetype == "application/pdf"
    db.session.commit()
    assert [e.actor_id for e in events("voucher.letter_pin_printed")] == [colleague.id]
    assert events("voucher.letter_pin_refused")[0].data == {"why": "user"}
