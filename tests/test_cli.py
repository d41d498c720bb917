"""The command line: create-user (password on standard input), expire, audit verify and keys
rotate, through Flask's CLI runner on the test database."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories as f
from tests.services.world import make_world
from voucher.documents.signing import KeyRing
from voucher.extensions import db
from voucher.models import User, Voucher
from voucher.services import SYSTEM, clock, issuance, redemption, users
from voucher.services.redemption import RedemptionRequest


def _create_user(runner, *args, password=f.PASSWORD):
    return runner.invoke(args=["create-user", *args], input=f"{password}\n")


def _one_line_error(result):
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Errore:"), result.stderr
    return lines[0]


@pytest.mark.parametrize("role", ["admin", "social_worker", "auditor"])
def test_create_user_reads_the_password_from_stdin(app, runner, role):
    result = _create_user(runner, "mario.rossi", "--role", role)
    assert result.exit_code == 0, result.output
    assert "mario.rossi" in result.stdout
    user = users.authenticate("mario.rossi", f.PASSWORD)
    assert user.role == role and user.provider_id is None
    assert f.PASSWORD not in user.password_hash


def test_create_user_for_a_provider(app, runner):
    provider = f.make_provider()
    result = _create_user(runner, "operatore", "--role", "provider", "--provider", str(provider.id))
    assert result.exit_code == 0, result.output
    assert users.authenticate("operatore", f.PASSWORD).provider_id == provider.id


def test_create_user_accepts_a_windows_line_ending(app, runner):
    result = _create_user(runner, "lucia", "--role", "auditor", password=f.PASSWORD + "\r")
    assert result.exit_code == 0, result.output
    assert users.authenticate("lucia", f.PASSWORD)


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (["--role", "provider"], f.PASSWORD, "--provider"),
        (["--role", "provider", "--provider", "999999"], f.PASSWORD, "999999"),
        (["--role", "admin"], "corta", "12 caratteri"),
        (["--role", "admin"], "password1234", "facile"),
        (["--role", "admin", "--provider", "1"], f.PASSWORD, "fornitore"),
    ],
)
def test_create_user_refusals_are_one_line_and_non_zero(app, runner, args, password, says):
    result = _create_user(runner, "giulia", *args, password=password)
    assert says.lower() in _one_line_error(result).lower()
    assert db.session.execute(select(User).where(User.username == "giulia")).first() is None


def test_create_user_refuses_a_duplicate_username(app, runner):
    f.make_user("admin", username="anna")
    result = _create_user(runner, "anna", "--role", "auditor")
    assert "anna" in _one_line_error(result)
    assert users.authenticate("anna", f.PASSWORD).role == "admin"  # the first one is intact


def test_create_user_without_a_password_on_stdin(app, runner):
    result = runner.invoke(args=["create-user", "paolo", "--role", "admin"], input="")
    _one_line_error(result)


def test_an_unknown_role_is_refused(app, runner):
    result = _create_user(runner, "paolo", "--role", "superuser")
    assert result.exit_code != 0


def test_expire_marks_vouchers_past_validity(app, runner):
    last_year = clock.today().year - 1
    world = make_world(
        issue=False,
        valid_from=date(last_year, 1, 1),
        valid_until=date(last_year, 12, 31),
        year=last_year,
    )
    voucher, _pin = issuance.issue_voucher(
        SYSTEM, world.scheme, world.person, day=date(last_year, 3, 1)
    )
    current = world.issue(person=f.make_beneficiary(), scheme=f.make_scheme())[0]
    db.session.commit()
    result = runner.invoke(args=["expire"])
    assert result.exit_code == 0, result.output
    assert "1" in result.stdout
    statuses = dict(db.session.execute(select(Voucher.code, Voucher.status)).all())
    assert statuses == {voucher.code: "expired", current.code: "active"}
    assert runner.invoke(args=["expire"]).stdout.strip().endswith("0.")


def test_keys_rotate_adds_a_key_and_old_vouchers_still_verify(app, runner, tmp_path, monkeypatch):
    world = make_world()
    keys_dir = tmp_path / "keys"
    shutil.copytree(app.config["SIGNING_KEYS_DIR"], keys_dir)
    monkeypatch.setitem(app.config, "SIGNING_KEYS_DIR", str(keys_dir))
    monkeypatch.setitem(app.extensions, "voucher.keyring", app.extensions["voucher.keyring"])
    before = {k.kid for k in KeyRing.load(str(keys_dir)).keys}
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    ring = app.extensions["voucher.keyring"]
    assert len(list(Path(keys_dir).glob("*.pem"))) == len(before) + 1
    assert ring.active.kid not in before and ring.active.kid in result.stdout
    assert {k.kid for k in ring.keys} == before | {ring.active.kid}
    # a voucher printed before the rotation still redeems by its QR payload
    provider = world.provider
    req = RedemptionRequest(
        voucher=world.voucher.qr_payload,
        service_code="A1",
        service_date=world.voucher.valid_from + timedelta(days=1),
        amount_cents=100,
    )
    entry, _ = redemption.redeem(SYSTEM, provider.id, req, "k", day=req.service_date)
    assert entry.public_cents == 100
    # and a new voucher is signed with the new key
    new, _ = world.issue(person=f.make_beneficiary())
    assert ring.verify(new.qr_payload)["code"] == new.code
