"""SPID conformance: AgID's spid-sp-test against the application served for real, with its
test identity provider configured: the metadata (with the extra checks, certificate
included), the AuthnRequest of /spid/login, and its whole suite of responses posted to
/spid/acs (the valid ones must sign in, every altered one must be refused). Zero failures."""

from tests.browser.support import serve
from tests.spid_support import failures, spid_app, spid_sp_test

TEST_IDP = "https://localhost:8443"  # spid-sp-test's identity provider


def test_spid_sp_test_reports_no_failure(tmp_path):
    app = spid_app(tmp_path / "instance", TEST_IDP)
    report = tmp_path / "report.json"
    with serve(app) as url:
        app.config["PUBLIC_URL"] = url
        result = spid_sp_test(
            "--metadata-url",
            f"{url}/spid/metadata",
            "--authn-url",
            f"{url}/spid/login?idp={TEST_IDP}",
            "--extra",
            "--test-response",
            "--debug",
            "ERROR",
            "--report_format",
            "json",
            "--report-output-file",
            str(report),
            idp_entity_id=TEST_IDP,
            timeout=900,
        )
    assert report.is_file(), result.stdout + result.stderr
    failed = failures(report)
    assert failed == [], "\n".join(failed)
    sections = report.read_text()
    for section in ("metadata", "authnrequest", "response"):
        assert f'"{section}' in sections, f"spid-sp-test ran no {section} check"
    assert result.returncode == 0, result.stderr[-2000:]
