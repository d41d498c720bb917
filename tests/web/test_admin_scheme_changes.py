"""The admin's pages that change an active scheme (budget, validity, providers), the
provider pages refusing a provider the scheme does not list, and the provider's contact
details edited from its page."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.web.provider_world import ledger_count, make_provider_world
from voucher.extensions import db
from voucher.models import AuditEvent, Voucher
from voucher.services import SYSTEM, clock, issuance
from voucher.services import scheme_providers as listing


@pytest.fixture
def admin_client(client, app):
    f.make_ente()
    f.login(client, f.make_user("admin"))
    return client


@pytest.fixture
def scheme(admin_client):
    scheme = f.make_scheme(face_value_cents=50_000, budget_cents=1_000_000)
    issuance.issue_voucher(SYSTEM, scheme, f.make_beneficiary())
    db.session.commit()
    return scheme


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_the_scheme_page_offers_the_changes_of_an_active_scheme(admin_client, scheme):
    html = _html(admin_client.get(f"/admin/misure/{scheme.id}"))
    for url in ("budget", "validita", "fornitori"):
        assert f'href="/admin/misure/{scheme.id}/{url}"' in html
    assert "Ogni fornitore accreditato per i servizi della misura" in html
    draft = f.make_scheme(status="draft")
    html = _html(admin_client.get(f"/admin/misure/{draft.id}"))
    assert f"/admin/misure/{draft.id}/budget" not in html
    assert f"/admin/misure/{draft.id}/fornitori" in html  # chosen before activation too
    moved = admin_client.get(f"/admin/misure/{draft.id}/budget")
    assert moved.status_code == 302


def test_budget_page_tops_up_and_refuses_below_the_committed(admin_client, scheme):
    page = _html(admin_client.get(f"/admin/misure/{scheme.id}/budget"))
    assert 'value="10.000,00"' in page and "500,00 €" in page and "data-confirm" in page
    url = f"/admin/misure/{scheme.id}/budget"
    done = admin_client.post(url, data={"budget": "25.000,00", "reason": "Determina n. 123"})
    assert done.status_code == 302
    assert scheme.budget_cents == 2_500_000
    refused = admin_client.post(url, data={"budget": "499,99", "reason": "Riduzione"})
    assert refused.status_code == 422
    html = _html(refused)
    assert "nuovo budget 499,99 €, impegnato 500,00 €" in html
    assert 'aria-invalid="true"' in html
    empty = admin_client.post(url, data={"budget": "", "reason": ""})
    assert empty.status_code == 422 and "Indicare il motivo." in _html(empty)
    db.session.expire_all()
    assert scheme.budget_cents == 2_500_000
    reasons = db.session.execute(
        select(AuditEvent.data["reason"].as_string()).where(
            AuditEvent.action == "scheme.budget_changed"
        )
    ).scalars()
    assert list(reasons) == ["Determina n. 123"]


def test_validity_page_extends_and_explains_the_vouchers(admin_client, scheme):
    url = f"/admin/misure/{scheme.id}/validita"
    page = _html(admin_client.get(url))
    assert "ristampa le lettere" in page and "sono 1." in page
    end = scheme.valid_until
    too_early = admin_client.post(url, data={"valid_until": end.isoformat(), "reason": "Det."})
    assert too_early.status_code == 422 and "deve seguire quella attuale" in _html(too_early)
    new_end = end + timedelta(days=45)
    data = {"valid_until": new_end.isoformat(), "reason": "Det. 4", "extend_vouchers": "y"}
    done = admin_client.post(url, data=data, follow_redirects=True)
    assert done.status_code == 200
    assert "Prorogato anche 1 buono" in _html(done)
    assert scheme.valid_until == new_end
    voucher = db.session.execute(select(Voucher).where(Voucher.scheme_id == scheme.id)).scalar_one()
    assert voucher.valid_until == new_end


def test_providers_page_lists_the_accredited_and_saves_the_choice(admin_client, scheme):
    chosen = f.make_provider(services=("A1",), name="Cooperativa Scelta")
    f.make_provider(services=("A2",), name="Cooperativa Altra")
    f.make_provider(services=("B1",), name="Cooperativa Lontana")
    url = f"/admin/misure/{scheme.id}/fornitori"
    page = _html(admin_client.get(url))
    assert "Cooperativa Scelta" in page and "Cooperativa Altra" in page
    assert "Cooperativa Lontana" not in page
    done = admin_client.post(url, data={"provider_ids": [str(chosen.id)]})
    assert done.status_code == 302
    assert listing.provider_ids(scheme) == [chosen.id]
    html = _html(admin_client.get(f"/admin/misure/{scheme.id}"))
    assert "Solo questi fornitori" in html and "Cooperativa Scelta" in html
    bad = admin_client.post(url, data={"provider_ids": ["abc"]})
    assert bad.status_code == 422 and "Fornitori sconosciuti" in _html(bad)
    assert admin_client.post(url, data={}).status_code == 302  # none ticked: open to all
    assert listing.provider_ids(scheme) == []


def test_an_unlisted_provider_is_refused_on_the_provider_pages(client, app):
    world = make_provider_world(client)
    listing.set_scheme_providers(SYSTEM, world.hours, [world.other.id])
    db.session.commit()
    card = world.card(world.voucher.code)
    assert "500,00" not in card and 'name="key"' not in card  # no balance, no form
    typed = {
        "voucher": world.voucher.code,
        "key": "web-typed-by-hand",
        "service_code": "A1",
        "service_date": clock.today().isoformat(),
        "quantity": "1",
    }
    preview = world.client.post("/fornitore/anteprima", data=typed)
    assert preview.status_code < 500 and 'action="/fornitore/conferma"' not in _html(preview)
    world.client.post("/fornitore/conferma", data=typed)
    assert ledger_count(world.voucher) == 0
    # listed: the card shows the voucher and the same service is recorded
    listing.set_scheme_providers(SYSTEM, world.hours, [world.other.id, world.provider.id])
    db.session.commit()
    assert "500,00" in world.card(world.voucher.code)
    world.client.post("/fornitore/conferma", data=world.form(quantity="1"))
    assert ledger_count(world.voucher) == 1


def test_the_provider_page_links_to_the_edit_of_its_contacts(admin_client):
    provider = f.make_provider(name="Cooperativa Aurora", email="info@aurora.example")
    page = _html(admin_client.get(f"/admin/fornitori/{provider.id}"))
    assert f'href="/admin/fornitori/{provider.id}/modifica"' in page
    form = _html(admin_client.get(f"/admin/fornitori/{provider.id}/modifica"))
    assert 'name="email"' in form and 'name="phone"' in form and 'name="address"' in form
    data = {
        "name": "Cooperativa Aurora",
        "email": "sportello@aurora.example",
        "phone": "055 654321",
        "address": "Via dei Servi 12, Firenze",
        "durc_valid_until": (clock.today() + timedelta(days=100)).isoformat(),
    }
    done = admin_client.post(f"/admin/fornitori/{provider.id}/modifica", data=data)
    assert done.status_code == 302
    page = _html(admin_client.get(f"/admin/fornitori/{provider.id}"))
    for value in ("sportello@aurora.example", "055 654321", "Via dei Servi 12, Firenze"):
        assert value in page
    event = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "provider.updated", AuditEvent.object_id == str(provider.id)
        )
    ).scalar_one()
    assert event.data["fields"] == ["address", "email", "phone"]
