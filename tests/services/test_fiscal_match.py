"""Does a codice fiscale belong to the person typed beside it (services.fiscal_match)?"""

from datetime import date

import pytest
from codicefiscale import codicefiscale

from voucher.services.fiscal_match import FiscalCodeMismatch, mismatches, require_confirmed


def code(last, first, sex="M", born="01/01/1980", place="Roma"):
    return codicefiscale.encode(
        lastname=last, firstname=first, gender=sex, birthdate=born, birthplace=place
    )


ROSSI_MARIO = code("Rossi", "Mario")  # RSSMRA80A01H501U
OMOCODE = codicefiscale.decode(ROSSI_MARIO)["omocodes"][3]
ANNA_NERI = code("Neri", "Anna", "F", "15/03/1941", "Firenze")
FOREIGN_NICOLA = code("Smith", "Nicola", "F", "02/05/1990", "Regno Unito")
DANGELO = code("D'Angelo", "Nicolò", "M", "01/01/1970", "Napoli")
DE_ROSSI = code("De Rossi", "Gianfranco", "M", "01/01/1970", "Albania")


@pytest.mark.parametrize(
    ("fiscal_code", "details", "expected"),
    [
        pytest.param(ROSSI_MARIO, dict(last_name="Rossi", first_name="Mario"), [], id="match"),
        pytest.param(
            ROSSI_MARIO.lower(),
            dict(last_name="ROSSI", first_name="mario", sex="M", birth_date=date(1980, 1, 1)),
            [],
            id="match_every_detail",
        ),
        pytest.param(
            ROSSI_MARIO,
            dict(last_name="Rossi", first_name="Mario", sex="F"),
            ["Il codice fiscale indica un uomo, ma il sesso indicato è femminile."],
            id="wrong_sex",
        ),
        pytest.param(
            ROSSI_MARIO,
            dict(last_name="Neri", first_name="Mario"),
            [
                "Le lettere del cognome nel codice fiscale (RSS) non corrispondono a «Neri» "
                "(dovrebbero essere NRE)."
            ],
            id="wrong_surname_letters",
        ),
        pytest.param(
            ROSSI_MARIO,
            dict(last_name="Rossi", first_name="Marco"),
            [
                "Le lettere del nome nel codice fiscale (MRA) non corrispondono a «Marco» "
                "(dovrebbero essere MRC)."
            ],
            id="wrong_first_name_letters",
        ),
        pytest.param(
            ROSSI_MARIO,
            dict(last_name="Neri", first_name="Anna"),
            [
                "Le lettere del cognome nel codice fiscale (RSS) non corrispondono a «Neri» "
                "(dovrebbero essere NRE).",
                "Le lettere del nome nel codice fiscale (MRA) non corrispondono a «Anna» "
                "(dovrebbero essere NNA).",
                "Il codice fiscale indica un uomo, ma «Anna» è di solito un nome femminile.",
            ],
            id="a_mans_code_for_anna_neri",
        ),
        pytest.param(
            ANNA_NERI,
            dict(last_name="Neri", first_name="Anna", birth_date=date(1941, 3, 16)),
            [
                "Il codice fiscale indica la nascita il 15/03/1941, ma la data indicata è il "
                "16/03/1941."
            ],
            id="wrong_birth_date",
        ),
        pytest.param(
            OMOCODE,
            dict(last_name="Rossi", first_name="Mario", sex="M", birth_date=date(1980, 1, 1)),
            [],
            id="omocodia",
        ),
        pytest.param(
            FOREIGN_NICOLA,
            dict(last_name="Smith", first_name="Nicola", birth_date=date(1990, 5, 2)),
            [],
            id="foreign_born_no_italian_name_custom",
        ),
        pytest.param(
            DE_ROSSI,
            dict(last_name="de rossi", first_name="Gian Franco"),
            [],
            id="foreign_born_spaces_and_four_consonants",
        ),
        pytest.param(
            DANGELO,
            dict(last_name="d’Àngelo", first_name="NICOLO'"),
            [],
            id="accents_and_apostrophes",
        ),
        pytest.param(code("Fo", "Al"), dict(last_name="Fo", first_name="Al"), [], id="short_x"),
    ],
)
def test_mismatches(fiscal_code, details, expected):
    assert mismatches(fiscal_code, **details) == expected


def test_the_first_name_rule_takes_the_first_third_and_fourth_consonant():
    assert DE_ROSSI[3:6] == "GFR"  # G, (N), F, R of Gianfranco
    body = DE_ROSSI[:3] + "GNF" + DE_ROSSI[6:15]  # the first three consonants instead
    assert mismatches(body + codicefiscale.encode_cin(body), first_name="Gianfranco") == [
        "Le lettere del nome nel codice fiscale (GNF) non corrispondono a «Gianfranco» "
        "(dovrebbero essere GFR)."
    ]


def test_a_mismatch_must_be_confirmed():
    found = mismatches(ROSSI_MARIO, last_name="Neri")
    with pytest.raises(FiscalCodeMismatch) as refused:
        require_confirmed(found, confirmed=False)
    assert refused.value.status == 422 and refused.value.mismatches == found
    require_confirmed(found, confirmed=True)
    require_confirmed([], confirmed=False)
