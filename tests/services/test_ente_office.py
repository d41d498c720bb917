"""The ente's social-services office: optional contacts, checked (a plausible phone, an
e-mail, bounded lengths), kept when a caller leaves them out, audited by field name; and
the letter built from the models prints them, with the addressee's Comune written once."""

import pytest
from sqlalchemy import select

from tests import factories as f
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.models import AuditEvent
from voucher.services import SYSTEM, ente_office, issuance, letters
from voucher.services.ente import get_ente, update_ente
from voucher.services.postal import postal_address


def test_contacts_are_saved_cleaned_and_audited_by_field_name(app):
    f.make_ente()
    ente = ente_office.update_office_contacts(
        SYSTEM, get_ente(), office_phone="  055  4496111 ", office_hours="lun-ven 9-12"
    )
    assert (ente.office_phone, ente.office_hours) == ("055 4496111", "lun-ven 9-12")
    assert ente.office_email is None and ente.office_address is None
    db.session.commit()
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "ente.office_updated")
    ).scalar_one()
    assert event.data == {"fields": ["office_hours", "office_phone"]}

    # Left out: kept. Empty: cleared.
    ente_office.update_office_contacts(SYSTEM, ente, office_email="uff@comune.example")
    assert ente.office_phone == "055 4496111" and ente.office_email == "uff@comune.example"
    ente_office.update_office_contacts(SYSTEM, ente, office_phone="")
    assert ente.office_phone is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("office_phone", "12", "Numero di telefono non valido"),
        ("office_phone", "chiamare il centralino", "Numero di telefono non valido"),
        ("office_phone", "0" * 41, "Al massimo 40 caratteri"),
        ("office_email", "servizi sociali@comune", "posta elettronica non valido"),
        ("office_hours", "x" * 301, "Al massimo 300 caratteri"),
        ("office_address", "x" * 301, "Al massimo 300 caratteri"),
    ],
)
def test_implausible_contacts_are_refused_field_by_field(app, field, value, message):
    f.make_ente()
    with pytest.raises(ValidationFailed) as refused:
        ente_office.update_office_contacts(SYSTEM, get_ente(), **{field: value})
    assert list(refused.value.errors) == [field]
    assert message in refused.value.errors[field][0]
    assert getattr(get_ente(), field) is None


@pytest.mark.parametrize(
    "phone", ["055 4496111", "+39 055 4496111", "800 123 456", "333 1234567", "055-4496111"]
)
def test_plausible_phones_are_accepted(phone):
    assert ente_office.plausible_phone(phone)


def test_update_ente_keeps_the_office_unless_given_and_checks_it_with_the_rest(app):
    f.make_ente()
    f.make_office_contacts()
    f.make_ente()  # an update that does not name the office keeps it
    assert get_ente().office_phone == f.OFFICE["office_phone"]
    with pytest.raises(ValidationFailed) as refused:
        update_ente(
            SYSTEM,
            name="Società della Salute di Prova",
            fiscal_code="12345678901",
            belfiore_code=None,
            comuni=[dict(f.FIRENZE)],
            office_phone="1",
        )
    assert {"fiscal_code", "office_phone"} <= set(refused.value.errors)


def test_the_office_read_for_families_never_invents_a_contact(app):
    assert ente_office.office_contacts(None) == ente_office.OfficeContacts()
    f.make_ente()
    empty = ente_office.office_contacts(get_ente())
    assert not empty.reachable and empty.lines() == [] and len(empty.missing) == 4
    f.make_office_contacts(office_email="", office_address="")
    office = ente_office.office_contacts(get_ente())
    assert office.reachable and office.missing == ["office_email", "office_address"]
    assert office.phone_uri == "tel:+390554496111"
    assert office.sentence() == (
        "telefono 055 4496111; orari lunedì-venerdì 9-12, giovedì anche 15-17"
    )


@pytest.mark.parametrize(
    ("address", "comune", "expected"),
    [
        (
            "Via Roma 12, 50019 Sesto Fiorentino (FI)",
            "Sesto Fiorentino",
            "Via Roma 12, 50019 Sesto Fiorentino (FI)",
        ),
        ("Via Matteotti 3, Fiesole", "Fiesole", "Via Matteotti 3, Fiesole"),
        ("Via Dante 3\n50014 Fiesole FI", "Fiesole", "Via Dante 3\n50014 Fiesole FI"),
        ("Via Roma 12", "Firenze", "Via Roma 12\nFirenze"),
        ("Via Roma 1", "Roma", "Via Roma 1\nRoma"),  # a street named after the town
        ("Piazza Firenze 2", "Firenze", "Piazza Firenze 2\nFirenze"),
        ("", "Firenze", ""),
    ],
)
def test_the_addressee_comune_is_written_once(address, comune, expected):
    assert postal_address(address, comune) == expected


def test_the_letter_from_the_models_carries_the_office_and_the_address_once(app):
    f.make_ente()
    scheme = f.make_scheme()
    person = f.make_beneficiary(comune=f.FIESOLE, address="Via Matteotti 3, Fiesole")
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, person)
    before = letters.letter_for(voucher, pin)
    assert before.beneficiary_address == "Via Matteotti 3, Fiesole"
    assert before.office_lines == [] and not before.office_reachable
    f.make_office_contacts()
    after = letters.letters_for([(voucher, pin)])[0]
    assert after.office_lines == [
        ("Telefono", f.OFFICE["office_phone"]),
        ("E-mail", f.OFFICE["office_email"]),
        ("Indirizzo", f.OFFICE["office_address"]),
        ("Orari", f.OFFICE["office_hours"]),
    ]
