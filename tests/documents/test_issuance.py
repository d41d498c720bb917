"""Issued vouchers on paper: the letter built from the models, its QR payload verified with
nothing but the published keys, key rotation, and issuance in chunks."""

import shutil

import pytest
from sqlalchemy import event

from tests import factories as f
from voucher.documents.letter import letters_pdf
from voucher.documents.signing import KeyRing, end_of_day_epoch, keyring
from voucher.errors import BudgetExceeded
from voucher.extensions import db
from voucher.services import SYSTEM, clock, issuance, providers, vouchers
from voucher.services.letters import coverage_text, letter_for, letters_for, value_text

from .support import page_qr_codes, pdf_pages, pdf_text, verify_jws

CLAIMS = {"iss", "code", "nbf", "exp"}


@pytest.fixture
def world(app):
    f.make_ente()
    scheme = f.make_scheme(copay_bands=[{"isee_max_cents": 2_000_000, "coverage_percent": 70}])
    provider = f.make_provider(name="Cooperativa Aurora", phone="055 123456")
    person = f.make_beneficiary(first_name="Giulia", last_name="Bianchi", address="Via Roma 1")
    return scheme, provider, person


def issue(scheme, person):
    voucher, pin = issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.commit()
    return voucher, pin


def assert_no_personal_data(token: str, person) -> None:
    header, claims = verify_jws(token, keyring().jwks())
    assert set(claims) <= CLAIMS
    for personal in (person.first_name, person.last_name, person.fiscal_code):
        assert personal not in str(claims) and personal not in str(header)


def test_letter_qr_is_the_payload_and_verifies_independently(world, client):
    scheme, _provider, person = world
    voucher, pin = issue(scheme, person)
    pdf = letters_pdf([letter_for(voucher, pin)])
    ((decoded,),) = page_qr_codes(pdf)
    assert decoded == voucher.qr_payload
    for jwks in (keyring().jwks(), client.get("/api/v1/public-keys").get_json()):
        header, claims = verify_jws(decoded, jwks)
        assert header["alg"] == "EdDSA" and header["kid"]
        assert claims["code"] == voucher.code
        assert claims["exp"] == end_of_day_epoch(voucher.valid_until)
    assert_no_personal_data(decoded, person)


def test_public_keys_endpoint_publishes_ed25519_jwks(world, client):
    response = client.get("/api/v1/public-keys")
    assert response.status_code == 200
    keys = response.get_json()["keys"]
    assert {k["kid"] for k in keys} == {k["kid"] for k in keyring().jwks()["keys"]}
    assert all((k["kty"], k["crv"]) == ("OKP", "Ed25519") and k["x"] for k in keys)
    assert all("d" not in k for k in keys)  # never the private part


def test_letter_content_from_the_models(world):
    scheme, provider, person = world
    voucher, pin = issue(scheme, person)
    text = " ".join(pdf_text(letters_pdf([letter_for(voucher, pin)])).split())
    for expected in (
        "Giulia Bianchi",
        "Via Roma 1",
        scheme.name,
        scheme.fund.name_it,
        scheme.services[0].name_it,
        "35,71 ore (500,00 €)",  # 500 € at 70 % of 20 € an hour
        "il restante 30% lo paga la famiglia direttamente al fornitore",
        "Cooperativa Aurora — 055 123456",
        voucher.code,
        f"PIN {pin}",
        "/saldo",
    ):
        assert expected in text, expected


def test_without_pin_the_letter_never_shows_it(world):
    scheme, _provider, person = world
    voucher, pin = issue(scheme, person)
    text = pdf_text(letters_pdf([letter_for(voucher)]))
    assert voucher.code in text
    assert pin not in text
    assert "PIN: quello ricevuto al rilascio" in text


def test_only_providers_accredited_today_are_listed(world):
    scheme, provider, person = world
    suspended = f.make_provider(name="Cooperativa Sospesa")
    providers.suspend_provider(SYSTEM, suspended)
    f.make_provider(name="Cooperativa Altri Servizi", services=("C1",))
    db.session.commit()
    voucher, _pin = issue(scheme, person)
    names = [name for name, _contact in letter_for(voucher).providers]
    assert "Cooperativa Aurora" in names
    assert "Cooperativa Sospesa" not in names
    assert "Cooperativa Altri Servizi" not in names


def test_batch_of_three_from_the_models(world):
    scheme, _provider, _person = world
    issued = [issue(scheme, f.make_beneficiary(last_name=f"Verdi{i}")) for i in range(3)]
    pdf = letters_pdf(letters_for(issued))
    assert page_qr_codes(pdf) == [[v.qr_payload] for v, _pin in issued]
    for page, (voucher, pin) in zip(pdf_pages(pdf), issued, strict=True):
        assert voucher.code in page and pin in page


def count_provider_queries(app, work) -> int:
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return sum("FROM provider" in s for s in statements)


def test_letters_for_reads_providers_once_per_scheme(app, world):
    scheme, _provider, person = world
    other = f.make_scheme(name="Altra misura")
    issued = [issue(scheme, person) for _ in range(8)] + [issue(other, person) for _ in range(4)]
    letters = []
    assert count_provider_queries(app, lambda: letters.extend(letters_for(issued))) == 2
    assert [letter.code for letter in letters] == [v.code for v, _pin in issued]
    assert count_provider_queries(app, lambda: letters_for(issued[:8])) == 1


def test_rotation_new_key_signs_old_payloads_still_verify(app, world, client, tmp_path):
    scheme, _provider, person = world
    keys_dir = str(tmp_path / "keys")
    shutil.copytree(app.config["SIGNING_KEYS_DIR"], keys_dir)
    original = app.extensions["voucher.keyring"]
    try:
        app.extensions["voucher.keyring"] = KeyRing.load(keys_dir)
        old_voucher, _ = issue(scheme, person)
        new_kid = KeyRing.rotate(keys_dir)
        app.extensions["voucher.keyring"] = ring = KeyRing.load(keys_dir)
        assert ring.active.kid == new_kid
        new_voucher, _ = issue(scheme, person)
        jwks = client.get("/api/v1/public-keys").get_json()
        old_header, _ = verify_jws(old_voucher.qr_payload, jwks)
        new_header, claims = verify_jws(new_voucher.qr_payload, jwks)
        assert new_header["kid"] == new_kid != old_header["kid"]
        assert claims["code"] == new_voucher.code
        assert {old_header["kid"], new_kid} <= {k["kid"] for k in jwks["keys"]}
        assert ring.verify(old_voucher.qr_payload)["code"] == old_voucher.code
        ((decoded,),) = page_qr_codes(letters_pdf([letter_for(old_voucher)]))
        assert decoded == old_voucher.qr_payload
    finally:
        app.extensions["voucher.keyring"] = original


def test_issuing_in_chunks_keeps_the_budget(world):
    _scheme, _provider, person = world
    scheme = f.make_scheme(face_value_cents=10_000, budget_cents=30_000)
    issued = [issuance.issue_voucher(SYSTEM, scheme, person, flush=False) for _ in range(3)]
    with pytest.raises(BudgetExceeded):
        issuance.issue_voucher(SYSTEM, scheme, person, flush=False)
    db.session.commit()
    assert all(v.id is not None for v, _pin in issued)
    with pytest.raises(BudgetExceeded):  # a new transaction reads the budget afresh
        issuance.issue_voucher(SYSTEM, scheme, person)
    db.session.rollback()
    vouchers.revoke_voucher(SYSTEM, issued[0][0], "smarrito")
    db.session.commit()
    issuance.issue_voucher(SYSTEM, scheme, person)  # the revoked voucher's value came back
    db.session.commit()


def test_a_chunk_flushes_once(app, world):
    scheme, _provider, person = world
    inserts = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO voucher"):
            inserts.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(5):
            issuance.issue_voucher(SYSTEM, scheme, person, flush=False)
        assert inserts == []
        db.session.flush()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert inserts


@pytest.mark.parametrize(
    ("value", "unit", "price", "text"),
    [
        (50_000, "HOUR", 2000, "25 ore (500,00 €)"),
        (2_000, "HOUR", 2000, "1 ora (20,00 €)"),
        (23_750, "HOUR", 2000, "11,87 ore (237,50 €)"),
        (30_000, "MEAL", 750, "40 pasti (300,00 €)"),
        (123_456, "EUR", None, "1.234,56 €"),
    ],
)
def test_value_text(value, unit, price, text):
    assert value_text(value, unit, price) == text


def test_coverage_text():
    assert "intero costo" in coverage_text(100)
    assert "il restante 40% lo paga la famiglia" in coverage_text(60)


def test_letter_dates_and_issue_day(world):
    scheme, _provider, person = world
    voucher, _pin = issue(scheme, person)
    db.session.expire_all()  # read back as stored
    letter = letter_for(voucher, day=clock.today())
    assert (letter.valid_from, letter.valid_until) == (voucher.valid_from, voucher.valid_until)
    assert abs((letter.issued_on - clock.today()).days) <= 1  # the Italian day of issue
    assert f"Emesso il {letter.issued_on:%d/%m/%Y}" in pdf_text(letters_pdf([letter]))
