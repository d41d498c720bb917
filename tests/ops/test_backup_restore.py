"""scripts/backup and scripts/restore: a round trip on SQLite and on PostgreSQL gives back
the same rows, an audit chain that verifies, and vouchers and PINs that still verify with
the restored secrets; and never the batch letters, which print the PINs in clear."""

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from tests import factories as f
from tests.conftest import (
    BACKENDS,
    create_postgres_database,
    dispose_app,
    drop_postgres_database,
    make_app,
)
from tests.services.world import make_world
from voucher.documents.signing import keyring
from voucher.extensions import db
from voucher.models import IssueBatch, IssueBatchDocument, LedgerEntry, Voucher
from voucher.services import audit_verify, redemption, users, vouchers

ROOT = Path(__file__).resolve().parents[2]
LETTERS = b"%PDF lettere del lotto, PIN 482913 in chiaro " * 20


@pytest.fixture(params=BACKENDS)
def new_database(request, tmp_path):
    """A factory of empty databases of one backend (committed for real), dropped after."""
    created = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        url = create_postgres_database(f"voucher_{name}")
        created.append(url)
        return url

    make.backend = request.param
    yield make
    for url in created:
        drop_postgres_database(url)


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - the repository's own scripts
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    rows = {}
    try:
        with engine.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(conn)
            for table in meta.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                rows[table.name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    finally:
        engine.dispose()
    return rows


def build_activity(app) -> dict:
    """An ente with a voucher redeemed twice, one redemption reversed, and a second
    voucher revoked; returns the PINs by code and the public keys."""
    with app.app_context():
        world = make_world()
        staff = f.make_user("social_worker")
        first, _ = world.redeem(amount_cents=4_000)
        world.redeem(quantity="1.5")
        redemption.reverse_redemption(users.actor_for(staff), first.id, "Servizio non reso")
        db.session.commit()
        other, other_pin = world.issue(person=f.make_beneficiary(age=75))
        vouchers.revoke_voucher(users.actor_for(staff), other, "Trasferimento")
        db.session.commit()
        batch = IssueBatch(scheme_id=world.scheme.id, status="done")
        db.session.add(batch)
        db.session.flush()
        document = {"kind": "letters", "size": len(LETTERS), "content": LETTERS}
        db.session.add(IssueBatchDocument(batch_id=batch.id, **document))
        db.session.commit()
        pins = {world.voucher.code: world.pin, other.code: other_pin}
        jwks = keyring().jwks()
    dispose_app(app)
    return {"pins": pins, "jwks": jwks}


def without_letters(rows: dict) -> dict:
    """The source's rows as a restore gives them back: every batch, none of its letters."""
    assert rows["issue_batch"] and rows["issue_batch_document"]
    return {**rows, "issue_batch_document": []}


def check_restored(app, expected: dict) -> None:
    with app.app_context():
        report = audit_verify.verify_chain()
        assert report.ok, report
        assert report.events > 0
        assert keyring().jwks() == expected["jwks"]
        all_vouchers = db.session.execute(select(Voucher)).scalars().all()
        assert {v.code for v in all_vouchers} == set(expected["pins"])
        for voucher in all_vouchers:
            assert keyring().verify(voucher.qr_payload)["code"] == voucher.code
            public = db.session.execute(
                select(sa.func.coalesce(sa.func.sum(LedgerEntry.public_cents), 0)).where(
                    LedgerEntry.voucher_id == voucher.id
                )
            ).scalar_one()
            assert voucher.value_cents - public == voucher.balance_cents
        # The restored pepper checks the PINs issued before the backup.
        for code, pin in expected["pins"].items():
            assert vouchers.check_pin(code, pin).code == code
        db.session.rollback()
    dispose_app(app)


def backed_up_activity(new_database, tmp_path):
    """A database with some activity, and its backup with secrets: the source's instance
    folder, what check_restored() expects, the source's snapshot, the archive and the
    backup's run."""
    source_url, source_instance = new_database("backup_src"), tmp_path / "instance-src"
    expected = build_activity(make_app(source_url, source_instance))
    before = snapshot(source_url)
    archive = tmp_path / "backup.tar.gz"
    done = run_script(
        "backup", "--with-secrets", "-o", str(archive),
        "--database-url", source_url, "--instance-path", str(source_instance),
    )  # fmt: skip
    return source_instance, expected, before, archive, done


def test_round_trip_with_secrets(new_database, tmp_path, monkeypatch):
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    source_instance, expected, before, archive, done = backed_up_activity(new_database, tmp_path)
    assert before["ledger_entry"] and before["audit_event"] and before["app_user"]
    assert done.returncode == 0, done.stderr
    assert archive.stat().st_mode & 0o777 == 0o600
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert f"{digest}  {archive}" in done.stdout
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        # No member holds the letters (the PostgreSQL dump is compressed: see the restore).
        assert not [m.name for m in tar.getmembers() if LETTERS[:40] in tar.extractfile(m).read()]
    assert {"manifest.json", "secrets/secret_key", "secrets/pin_pepper"} <= names
    assert any(n.startswith("secrets/signing-keys/") for n in names)

    target_url, target_instance = new_database("backup_dst"), tmp_path / "instance-dst"
    done = run_script(
        "restore", str(archive),
        "--database-url", target_url, "--instance-path", str(target_instance),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert snapshot(target_url) == without_letters(before)
    for name in ("secret_key", "pin_pepper"):
        restored = target_instance / name
        assert restored.read_bytes() == (source_instance / name).read_bytes()
        assert restored.stat().st_mode & 0o777 == 0o600
    check_restored(make_app(target_url, target_instance), expected)

    # The target now holds data: a second restore needs --force, and changes nothing.
    again = run_script(
        "restore", str(archive),
        "--database-url", target_url, "--instance-path", str(target_instance),
    )  # fmt: skip
    assert again.returncode == 1
    assert "--force" in again.stderr
    forced = run_script(
        "restore", str(archive), "--force",
        "--database-url", target_url, "--instance-path", str(target_instance),
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    assert snapshot(target_url) == without_letters(before)


def test_secrets_only_on_request_and_never_overwritten_silently(
    new_database, tmp_path, monkeypatch
):
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    source_url, source_instance = new_database("nosecret_src"), tmp_path / "instance-src"
    dispose_app(make_app(source_url, source_instance))
    archive = tmp_path / "plain.tar.gz"
    done = run_script(
        "backup", "-o", str(archive),
        "--database-url", source_url, "--instance-path", str(source_instance),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with tarfile.open(archive) as tar:
        assert not [n for n in tar.getnames() if n.startswith("secrets/")]
    assert "--with-secrets" in done.stdout
    # An existing archive is never overwritten.
    assert run_script("backup", "-o", str(archive), "--database-url", source_url).returncode == 1

    with_secrets = tmp_path / "secrets.tar.gz"
    run_script(
        "backup", "--with-secrets", "-o", str(with_secrets),
        "--database-url", source_url, "--instance-path", str(source_instance),
    )  # fmt: skip
    # The target instance already has its own (different) pepper: not replaced silently.
    target_instance = tmp_path / "instance-dst"
    target_instance.mkdir()
    (target_instance / "pin_pepper").write_text("another-pepper")
    refused = run_script(
        "restore", str(with_secrets),
        "--database-url", new_database("nosecret_dst"), "--instance-path", str(target_instance),
    )  # fmt: skip
    assert refused.returncode == 1
    assert "pin_pepper" in refused.stderr
    assert (target_instance / "pin_pepper").read_text() == "another-pepper"


def test_a_damaged_or_foreign_archive_is_refused(new_database, tmp_path, monkeypatch):
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    source_url = new_database("damaged_src")
    dispose_app(make_app(source_url, tmp_path / "instance-src"))
    archive = tmp_path / "good.tar.gz"
    assert run_script("backup", "-o", str(archive), "--database-url", source_url).returncode == 0

    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}
    database = next(n for n in members if n.startswith("database."))

    def rewrite(path: Path, content: dict) -> Path:
        with tarfile.open(path, "w:gz") as tar:
            for name, data in content.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        return path

    target = new_database("damaged_dst")
    altered = rewrite(tmp_path / "altered.tar.gz", {**members, database: members[database] + b"x"})
    done = run_script("restore", str(altered), "--database-url", target)
    assert done.returncode == 1
    assert "checksum" in done.stderr

    sneaky = rewrite(tmp_path / "sneaky.tar.gz", {**members, "../evil": b"x"})
    done = run_script("restore", str(sneaky), "--database-url", target)
    assert done.returncode == 1
    assert "inatteso" in done.stderr
    assert not (tmp_path.parent / "evil").exists()

    manifest = json.loads(members["manifest.json"])
    other_kind = (
        "sqlite:///x.sqlite3"
        if manifest["database"] == "postgresql"
        else ("postgresql+psycopg://postgres@127.0.0.1:1/none")
    )
    done = run_script("restore", str(archive), "--database-url", other_kind)
    assert done.returncode == 1
    assert manifest["database"] in done.stderr


def test_restore_into_a_migrated_empty_database(new_database, tmp_path, monkeypatch):
    """A target prepared with `flask db upgrade` holds only what the migrations write (the
    catalogue, the audit chain's starting head): it is empty, and the restore goes ahead."""
    monkeypatch.setenv("VOUCHER_INSTANCE_PATH", str(tmp_path))
    _source_instance, expected, before, archive, done = backed_up_activity(new_database, tmp_path)
    assert done.returncode == 0, done.stderr

    target_url, target_instance = new_database("backup_dst"), tmp_path / "instance-dst"
    dispose_app(make_app(target_url, tmp_path / "instance-migrate"))  # migrated, nothing else
    done = run_script(
        "restore", str(archive),
        "--database-url", target_url, "--instance-path", str(target_instance),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert snapshot(target_url) == without_letters(before)
    check_restored(make_app(target_url, target_instance), expected)
