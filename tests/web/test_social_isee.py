"""ISEE records on the social workers' pages: a new record through the form, the coverage
history on the voucher's page, and the renewals due this month and next."""

from datetime import timedelta

import pytest

from tests import factories as f
from tests.web.social_world import assert_no_fiscal_code_in_urls, make_social_world
from voucher.extensions import db
from voucher.models import IseeRecord
from voucher.periods import MONTH_NAMES, Month
from voucher.services import clock

# 10.000 € → 90 %, 20.000 € → 70 %; the world's person has 10.000 €.
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},
    {"isee_max_cents": 2_000_000, "coverage_percent": 70},
]
TODAY = clock.today()
LAST_MONTH = Month.of(TODAY).previous().start


@pytest.fixture
def world(app):
    return make_social_world(copay_bands=BANDS)


@pytest.fixture
def staff(client, world):
    user = f.make_user("social_worker")
    f.login(client, user)
    return user


def form(**overrides) -> dict:
    return {
        "isee_type": "ordinario",
        "value": "15.000,00",
        "dsu_protocol": f"inps-isee-{LAST_MONTH.year}-000000123-01",
        "dsu_date": LAST_MONTH.isoformat(),
        "valid_until": (TODAY + timedelta(days=300)).isoformat(),
        **overrides,
    }


def test_a_record_from_the_form_changes_the_coverage_shown_on_the_voucher(client, world, staff):
    person = world.person
    page = client.get(f"/servizi/beneficiari/{person.id}").get_data(as_text=True)
    assert f'action="/servizi/beneficiari/{person.id}/isee"' in page
    response = client.post(f"/servizi/beneficiari/{person.id}/isee", data=form())
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"INPS-ISEE-{LAST_MONTH.year}-000000123-01" in page and "15.000,00 €" in page
    assert "ISEE registrato." in page and "La copertura di 1 buono cambia" in page

    html = client.get(f"/servizi/buoni/{world.voucher.id}").get_data(as_text=True)
    since = Month.of(TODAY).start
    assert f"Dal {since.day} {MONTH_NAMES[since.month - 1]} {since.year}: copertura 70 %" in html
    assert f"(ISEE del {LAST_MONTH:%d/%m/%Y})" in html
    assert "70% del costo; la famiglia paga il 30%" in html
    assert "Nuova copertura da un ISEE" in html  # in the voucher's trail


def test_a_wrong_protocol_is_shown_on_its_field(client, world, staff):
    person = world.person
    response = client.post(
        f"/servizi/beneficiari/{person.id}/isee", data=form(dsu_protocol="INPS-ISEE-123")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="dsu_protocol-error"' in html and "INPS-ISEE-AAAA-NNNNNNNNN-NN" in html
    protocols = db.session.query(IseeRecord.dsu_protocol).filter_by(beneficiary_id=person.id)
    assert [p for (p,) in protocols if p] == []


def test_the_renewals_due_list_this_month_and_next_only(client, world, staff):
    due = f.make_beneficiary(isee_valid_until=TODAY)
    later = f.make_beneficiary(isee_valid_until=Month.of(TODAY).next().next().next().start)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/servizi/isee-in-scadenza"' in home
    html = client.get("/servizi/isee-in-scadenza").get_data(as_text=True)
    assert f'href="/servizi/beneficiari/{due.id}"' in html and due.full_name in html
    assert f'href="/servizi/beneficiari/{later.id}"' not in html
    assert f'href="/servizi/beneficiari/{world.person.id}"' not in html  # valid for a year
    assert_no_fiscal_code_in_urls(html)
