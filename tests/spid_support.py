"""Shared by the SPID tests: spid-sp-test (AgID's conformance tool for service providers),
installed by scripts/lib.sh in a virtual environment of its own (.venv/tools/spid-sp-test:
its pins clash with the project's), its test identity provider, and an application served
for real with that provider configured."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import make_app

ROOT = Path(__file__).resolve().parent.parent
SPID_SP_TEST = Path(
    os.environ.get(
        "SPID_SP_TEST", ROOT / ".venv" / "tools" / "spid-sp-test" / "bin" / "spid_sp_test"
    )
)
SETTINGS = {
    "SPID_IPA_CODE": "c_d612",
    "SPID_ORGANIZATION_NAME": "Società della Salute di Firenze",
    "SPID_CONTACT_EMAIL": "servizi.sociali@example.it",
    "SPID_CONTACT_PHONE": "+390551234567",
    "SPID_MUNICIPALITY": "048017",
}


def spid_sp_test(*args: str, idp_entity_id: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run spid_sp_test with `args`; its test identity provider is `idp_entity_id`."""
    if not os.access(SPID_SP_TEST, os.X_OK):
        pytest.fail(f"spid-sp-test is missing at {SPID_SP_TEST}: scripts/test installs it")
    env = {**os.environ, "IDP_ENTITYID": idp_entity_id}
    return subprocess.run(  # noqa: S603 - our own tool, fixed arguments
        [str(SPID_SP_TEST), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def write_test_idp_metadata(folder: Path, idp_entity_id: str) -> None:
    """spid-sp-test's identity provider, as the application's configured metadata."""
    result = spid_sp_test("--idp-metadata", idp_entity_id=idp_entity_id, timeout=120)
    assert result.returncode == 0, result.stderr
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "spid-sp-test.xml").write_text(result.stdout)


def spid_app(instance: Path, idp_entity_id: str):
    """An application on a migrated SQLite file that trusts spid-sp-test's provider."""
    idp_dir = instance / "spid-idp"
    write_test_idp_metadata(idp_dir, idp_entity_id)
    return make_app(
        f"sqlite:///{instance / 'spid.sqlite3'}",
        instance,
        SPID_IDP_METADATA_DIR=str(idp_dir),
        CIE_IDP_METADATA_DIR=str(instance / "cie-idp"),
        **SETTINGS,
    )


def failures(report_file: Path) -> list[str]:
    """The checks of a spid-sp-test JSON report that did not succeed."""
    report = json.loads(report_file.read_text())
    found = []
    for section in report["test"]["sp"].values():
        for checks in section.values():
            for check in checks:
                if check.get("result") != "success":
                    found.append(
                        f"{check.get('method')}: {check.get('test')} ({check.get('value')})"
                    )
    return found
