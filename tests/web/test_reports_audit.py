"""The audit-log viewer: newest first, filters by operation, object, author and dates, pages;
the integrity check on request, which names the first broken link of a tampered chain."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.web.reports_world import MONTH, build
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, audit, clock


@pytest.fixture
def world(app, client):
    w = build(client)
    w.login("auditor")
    return w


def _seqs(html: str) -> list[int]:
    body = html.split('id="events-table"')[1].split("</tbody>")[0]
    return [int(s) for s in re.findall(r'<th scope="row">(\d+)</th>', body)]


def _count(**where) -> int:
    query = sa.select(sa.func.count(AuditEvent.id))
    for column, value in where.items():
        query = query.where(getattr(AuditEvent, column) == value)
    return db.session.execute(query).scalar_one()


def _get(w, query: str = "") -> str:
    response = w.client.get(f"/rendiconti/registro{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_events_newest_first_with_their_data(world):
    html = _get(world)
    seqs = _seqs(html)
    assert seqs == sorted(seqs, reverse=True) and seqs[0] == _count()
    assert "voucher.redemption_reversed" in html and "voucher.issued" in html
    assert f"({_count()})" in html  # how many events in all
    # The data of a reversal, as recorded by the service.
    reversal = (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "voucher.redemption_reversed")
        )
        .scalars()
        .first()
    )
    for key in reversal.data:
        assert f"<dt>{key}</dt>" in html


def test_filter_by_action(world):
    html = _get(world, "?azione=voucher.redemption_reversed")
    seqs = _seqs(html)
    assert len(seqs) == _count(action="voucher.redemption_reversed") == 2
    assert '<option selected value="voucher.redemption_reversed">' in html


def test_filter_by_object(world):
    provider = str(world.provider.id)
    html = _get(world, f"?tipo=provider&oggetto={provider}")
    expected = db.session.execute(
        sa.select(AuditEvent.seq)
        .where(AuditEvent.object_type == "provider", AuditEvent.object_id == provider)
        .order_by(AuditEvent.seq.desc())
    ).scalars()
    assert _seqs(html) == list(expected)
    assert _seqs(html)


def test_filter_by_author(world):
    admin = world.users["admin"]
    world.client.post("/esci")
    world.login("admin")
    world.client.post(f"/rendiconti/fornitori/{world.provider.id}/approva", data={"month": MONTH})
    html = _get(world, f"?autore=user:{admin.id}")
    actions = re.findall(r"<td><code>([a-z_.]+)</code></td>", html)
    assert actions == ["statement.approved", "user.login"]
    system = _seqs(_get(world, "?autore=system"))
    assert len(system) == min(50, _count(actor_type="system"))


def test_filter_by_dates(world):
    today = clock.today()
    assert len(_seqs(_get(world, f"?dal={today}&al={today}"))) == min(50, _count())
    tomorrow = today + timedelta(days=1)
    assert "Nessun evento." in _get(world, f"?dal={tomorrow}")
    assert "Nessun evento." in _get(world, f"?al={today - timedelta(days=1)}")


def test_pages(world):
    for n in range(60):
        audit.record(SYSTEM, "test.filler", "test", n)
    db.session.commit()
    total = _count()
    first = _get(world)
    assert len(_seqs(first)) == 50 and f"Pagina 1 di {-(-total // 50)}" in first
    second = _get(world, "?pagina=2")
    assert _seqs(second)[0] == total - 50
    filtered = _get(world, "?azione=test.filler&pagina=2")
    assert _seqs(filtered) == list(range(total - 50, total - 60, -1))
    assert 'href="/rendiconti/registro?pagina=1&amp;azione=test.filler"' in filtered


def test_no_filter_of_a_name_travels_in_the_url(world):
    html = _get(world)
    options = re.findall(r'<option[^>]*value="([^"]*)"', html.split('id="autore"')[1])
    assert options and all(
        re.fullmatch(r"|system|beneficiary|(user|api_key):\d+", o) for o in options
    )


def test_verify_an_intact_chain(world):
    response = world.client.post("/rendiconti/registro/verifica")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Catena integra: {_count()} eventi verificati" in html


def _allow_tampering():
    """Switch the append-only triggers off for this test's transaction only."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL session_replication_role = replica"))
    else:
        for action in ("update", "delete"):
            db.session.execute(sa.text(f"DROP TRIGGER audit_event_no_{action}"))


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            lambda: (
                sa.update(AuditEvent).where(AuditEvent.seq == 5).values(data={"amount_cents": 1})
            ),
            "il contenuto dell'evento è stato modificato",
        ),
        (lambda: sa.delete(AuditEvent).where(AuditEvent.seq == 5), "manca un evento"),
    ],
)
def test_verify_names_the_broken_link(world, tamper, reason):
    _allow_tampering()
    db.session.execute(tamper())
    response = world.client.post("/rendiconti/registro/verifica?azione=voucher.issued")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Catena interrotta" in html
    assert "La catena si interrompe all'evento n. 5" in html
    assert reason in html and "I 4 eventi precedenti sono verificati" in html
    # The filters stay applied under the result.
    assert set(re.findall(r"<td><code>([a-z_.]+)</code></td>", html)) == {"voucher.issued"}
