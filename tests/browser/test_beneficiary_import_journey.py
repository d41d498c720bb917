"""A social worker imports people from a CSV in a real browser: the dry run, the rows whose
codice fiscale disagrees with the name confirmed with a tick, then the way to bulk issuance;
and a registration whose code is a man's for «Anna» asks for the same tick. No serious
accessibility issue on any step."""

import pytest

from tests import factories as f
from tests.browser.support import DESKTOP, axe_violations, open_tab, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser, live):
    tab = open_tab(browser, live.url, DESKTOP)
    sign_in(tab, live.social_worker)
    yield tab
    tab.context.close()


def test_import_then_confirm_the_doubtful_rows_and_register_with_a_warning(desk):
    carla = f.fiscal_code_for(f.unique_birth_date(44), "F", "Neri", "Carla")
    mario = f.fiscal_code_for(f.unique_birth_date(44), "M", "Rossi", "Mario")
    text = (
        "codice_fiscale;nome;cognome;comune;categorie\n"
        f"{carla};Carla;Neri;Fiesole;Minore\n{mario};Anna;Neri;Firenze;\nX;Ada;Neri;Firenze;\n"
    )
    desk.goto("/servizi/importazioni")
    assert axe_violations(desk) == []
    desk.set_input_files(
        "#file", {"name": "persone.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    desk.click("form button[type=submit]:has-text('Carica e verifica')")
    desk.wait_for_selector("#warnings")
    assert "Codice fiscale non valido" in desk.inner_text("#rows-title + div")
    assert carla not in desk.url and axe_violations(desk) == []

    desk.click("label[for=include_warnings]")
    desk.click("button:has-text('Conferma e registra')")
    desk.wait_for_selector("text=Importazione confermata: 2 persone registrate.")
    assert axe_violations(desk) == []
    desk.click("text=Vai all'emissione massiva")
    desk.wait_for_url("**/servizi/lotti")

    code = f.fiscal_code_for(f.unique_birth_date(60), "M", "Rossi", "Mario")
    desk.goto("/servizi/beneficiari/nuovo")
    desk.fill("#fiscal_code", code)
    desk.fill("#first_name", "Anna")
    desk.fill("#last_name", "Neri")
    desk.select_option("#comune_istat", label="Fiesole")
    desk.click("form button[type=submit]:has-text('Registra')")
    desk.wait_for_selector("#fiscal-code-mismatch")
    assert "è di solito un nome femminile" in desk.inner_text("#fiscal-code-mismatch")
    assert axe_violations(desk) == []
    desk.click("label[for=confirm_mismatch]")
    desk.click("form button[type=submit]:has-text('Registra')")
    desk.wait_for_selector("text=Beneficiario registrato.")
