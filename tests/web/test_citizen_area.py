"""The personal area after SPID or CIE sign-in: the person's own vouchers and those of the
people whose record names them as representative (a child's parent, a guardian), never
anyone else's; a record that stops naming them drops out at once; each person's
notification preferences, saved and audited. The sign-in itself goes through SAML in
tests/web/test_spid_conformance.py and tests/browser/test_citizen_sign_in.py."""

import hashlib
import hmac
import time

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, beneficiaries, issuance
from voucher.web.citizen.session import SESSION_KEY


@pytest.fixture
def family(app):
    f.make_ente()
    scheme = f.make_scheme(name="Assistenza domiciliare")
    minors = f.make_scheme(name="Educativa per minori", eligible_categories=["minor"])
    parent = f.make_beneficiary(age=40, first_name="Lucia", last_name="Bianchi")
    child = f.make_beneficiary(
        age=8,
        first_name="Tommaso",
        last_name="Bianchi",
        categories=("minor",),
        representative_fiscal_code=parent.fiscal_code,
        representative_role="genitore",
    )
    stranger = f.make_beneficiary(first_name="Ottavia", last_name="Sconosciuti")
    vouchers = {}
    for name, person, on in (
        ("parent", parent, scheme),
        ("child", child, minors),
        ("stranger", stranger, scheme),
    ):
        vouchers[name], _pin = issuance.issue_voucher(SYSTEM, on, person)
    db.session.commit()
    return parent, child, stranger, vouchers


def sign_in(app, client, fiscal_code: str, own_id: int | None, represented: list[int]):
    """The session /spid/acs leaves (voucher.web.citizen.session.start)."""
    digest = hmac.new(
        str(app.config["SECRET_KEY"]).encode(), fiscal_code.encode(), hashlib.sha256
    ).hexdigest()
    with client.session_transaction() as session:
        session[SESSION_KEY] = {
            "b": own_id,
            "r": represented,
            "h": digest,
            "n": "Lucia",
            "f": "spid",
            "i": "https://idp.example",
            "nid": "transient-id",
            "e": time.time() + 600,
        }


def test_a_parent_sees_their_vouchers_and_their_childs_and_nobody_elses(app, client, family):
    parent, child, stranger, vouchers = family
    sign_in(app, client, parent.fiscal_code, parent.id, [child.id, stranger.id])
    page = client.get("/area-personale").get_data(as_text=True)
    assert vouchers["parent"].code in page
    assert vouchers["child"].code in page
    assert "Buoni di Tommaso" in page and "genitore" in page
    # The stranger's id in the session (forged or stale) shows nothing: their record does
    # not name this person.
    assert vouchers["stranger"].code not in page
    assert "Ottavia" not in page
    reads = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "voucher.read")
    ).scalars()
    reasons = {int(e.object_id): e.data.get("purpose") for e in reads}
    assert reasons[vouchers["child"].id] == "consultazione da parte del rappresentante"
    assert reasons[vouchers["parent"].id] == "consultazione da parte dell'interessato"


def test_a_record_that_stops_naming_the_representative_drops_out_at_once(app, client, family):
    parent, child, _stranger, vouchers = family
    sign_in(app, client, parent.fiscal_code, parent.id, [child.id])
    beneficiaries.update_beneficiary(
        SYSTEM, child, representative_fiscal_code=None, representative_role=None
    )
    db.session.commit()
    page = client.get("/area-personale").get_data(as_text=True)
    assert vouchers["parent"].code in page
    assert vouchers["child"].code not in page


def test_a_representative_who_is_not_a_beneficiary_sees_only_the_child(app, client, family):
    _parent, child, _stranger, vouchers = family
    guardian_code = f.fiscal_code_for(f.unique_birth_date(50), "M", "Verdi", "Paolo")
    beneficiaries.update_beneficiary(
        SYSTEM, child, representative_fiscal_code=guardian_code, representative_role="tutore"
    )
    db.session.commit()
    sign_in(app, client, guardian_code, None, [child.id])
    page = client.get("/area-personale").get_data(as_text=True)
    assert vouchers["child"].code in page and "tutore" in page
    assert vouchers["parent"].code not in page


def test_preferences_are_saved_for_oneself_and_for_the_child_and_audited(app, client, family):
    parent, child, stranger, _vouchers = family
    sign_in(app, client, parent.fiscal_code, parent.id, [child.id])
    answer = client.post(
        f"/area-personale/preferenze/{child.id}",
        data={f"p{child.id}-notify_io": "y", f"p{child.id}-notify_language": "en"},
    )
    assert answer.status_code == 303
    db.session.expire_all()
    assert (child.notify_email, child.notify_io, child.notify_language) == (False, True, "en")
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "beneficiary.preferences_changed")
    ).scalar_one()
    assert int(event.object_id) == child.id
    assert sorted(event.data["fields"]) == ["notify_email", "notify_language"]
    assert "Preferenze salvate" in client.get("/area-personale").get_data(as_text=True)

    # Someone else's preferences are not this person's to change.
    refused = client.post(
        f"/area-personale/preferenze/{stranger.id}",
        data={f"p{stranger.id}-notify_language": "en"},
    )
    assert refused.status_code == 404
    db.session.expire_all()
    assert stranger.notify_language == "it"


def test_preferences_need_a_signed_in_person(client, family):
    _parent, child, _stranger, _vouchers = family
    answer = client.post(f"/area-personale/preferenze/{child.id}", data={})
    assert answer.status_code == 303
    db.session.expire_all()
    assert child.notify_email is True


@pytest.mark.parametrize(
    ("code", "role", "field"),
    [
        ("RSSMRA80A01H501X", "genitore", "representative_fiscal_code"),  # bad check digit
        (None, "tutore", "representative_fiscal_code"),
        ("GOOD", None, "representative_role"),
        ("GOOD", "zio", "representative_role"),
        ("SELF", "genitore", "representative_fiscal_code"),
    ],
)
def test_a_representative_needs_a_valid_code_and_a_role(app, family, code, role, field):
    _parent, child, _stranger, _vouchers = family
    if code == "GOOD":
        code = f.fiscal_code_for(f.unique_birth_date(45), "F", "Neri", "Anna")
    elif code == "SELF":
        code = child.fiscal_code
    with pytest.raises(ValidationFailed) as refused:
        beneficiaries.update_beneficiary(
            SYSTEM, child, representative_fiscal_code=code, representative_role=role
        )
    assert field in refused.value.errors


def test_the_social_worker_names_a_representative_on_the_form(app, client, family):
    _parent, child, _stranger, _vouchers = family
    f.login(client, f.make_user("social_worker"))
    page = client.get(f"/servizi/beneficiari/{child.id}").get_data(as_text=True)
    assert "Rappresentante" in page and child.representative_fiscal_code in page
    form = client.get(f"/servizi/beneficiari/{child.id}/modifica").get_data(as_text=True)
    assert 'name="representative_fiscal_code"' in form
    assert f'value="{child.representative_fiscal_code}"' in form


def test_a_parents_role_ends_at_eighteen_a_guardians_does_not(app, client, family):
    parent, _child, _stranger, _vouchers = family
    scheme = f.make_scheme(name="Assistenza per adulti")
    grown = f.make_beneficiary(
        age=20, representative_fiscal_code=parent.fiscal_code, representative_role="genitore"
    )
    ward = f.make_beneficiary(
        age=45, representative_fiscal_code=parent.fiscal_code, representative_role="tutore"
    )
    grown_voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, grown)
    ward_voucher, _pin = issuance.issue_voucher(SYSTEM, scheme, ward)
    db.session.commit()
    sign_in(app, client, parent.fiscal_code, parent.id, [grown.id, ward.id])
    page = client.get("/area-personale").get_data(as_text=True)
    assert ward_voucher.code in page
    assert grown_voucher.code not in page


def test_a_session_whose_own_record_changed_since_sign_in_shows_nothing_of_it(app, client, family):
    parent, _child, _stranger, vouchers = family
    # Signed in with another code than the record's (the record was corrected since).
    other = f.fiscal_code_for(f.unique_birth_date(41), "F", "Bianchi", "Lucia")
    sign_in(app, client, other, parent.id, [])
    page = client.get("/area-personale").get_data(as_text=True)
    assert vouchers["parent"].code not in page


def test_what_a_representative_reads_is_audited_as_theirs(app, client, family):
    parent, child, _stranger, vouchers = family
    sign_in(app, client, parent.fiscal_code, parent.id, [child.id])
    client.get("/area-personale")
    read = db.session.execute(
        select(AuditEvent).where(
            AuditEvent.action == "voucher.read",
            AuditEvent.object_id == str(vouchers["child"].id),
        )
    ).scalar_one()
    assert (read.actor_type, read.actor_id, read.actor_label) == (
        "beneficiary",
        parent.id,
        "rappresentante",
    )
