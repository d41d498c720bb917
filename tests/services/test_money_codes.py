"""Money arithmetic (half-up, in one place) and voucher codes (check character, confusable
letters) and PIN digests: pure functions, no database."""

import random
import re
from decimal import Decimal

import pytest

from voucher.services import codes
from voucher.services.money import cost_of, format_euro, public_share, round_half_up


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),  # half-up, not banker's rounding
        ("0.49", 0),
        ("0.51", 1),
        ("1999.5", 2000),
        ("-0.5", -1),  # halves away from zero
        ("-1.49", -1),
        ("7", 7),
    ],
)
def test_round_half_up(value, expected):
    assert round_half_up(Decimal(value)) == expected


@pytest.mark.parametrize(
    ("quantity", "price", "cost"),
    [
        ("1.5", 1_333, 2_000),
        ("0.01", 50, 1),
        ("0.01", 49, 0),
        ("2.25", 1_999, 4_498),
        ("3", 700, 2_100),
    ],
)
def test_cost_of_a_quantity(quantity, price, cost):
    assert cost_of(Decimal(quantity), price) == cost


@pytest.mark.parametrize(
    ("cost", "coverage", "public"),
    [
        (1, 50, 1),
        (3, 50, 2),
        (1_001, 50, 501),
        (999, 33, 330),
        (10, 25, 3),
        (5_000, 0, 0),
        (77, 100, 77),
    ],
)
def test_public_share(cost, coverage, public):
    assert public_share(cost, coverage) == public
    assert 0 <= public <= cost


@pytest.mark.parametrize(
    ("cents", "text"),
    [
        (0, "0,00 €"),
        (5, "0,05 €"),
        (123_456, "1.234,56 €"),
        (-250, "-2,50 €"),
        (100_000_000, "1.000.000,00 €"),
    ],
)
def test_format_euro(cents, text):
    assert format_euro(cents) == text


_RNG = random.Random(2026)  # fixed: parametrised ids must be the same in every test worker
SAMPLES = [
    codes.format_code(data + codes._check_character(data))
    for data in ("".join(_RNG.choice(codes.ALPHABET) for _ in range(15)) for _ in range(12))
] + [
    "0000-0000-0000-000" + codes._check_character("0" * 15),
    codes.format_code("ZZZZZZZZZZZZZZZ" + codes._check_character("Z" * 15)),
]


def test_generated_codes_have_the_shape_and_a_valid_check_character():
    for code in SAMPLES + [codes.generate_code() for _ in range(12)]:
        assert re.fullmatch(r"([0-9A-HJKMNP-TV-Z]{4}-){3}[0-9A-HJKMNP-TV-Z]{4}", code)
        assert codes.normalise_code(code) == code
    assert len({codes.generate_code() for _ in range(1_000)}) == 1_000


@pytest.mark.parametrize("code", SAMPLES)
def test_every_single_substitution_is_caught(code):
    compact = code.replace("-", "")
    for i, original in enumerate(compact):
        for ch in codes.ALPHABET:
            if ch != original:
                typo = compact[:i] + ch + compact[i + 1 :]
                assert codes.normalise_code(typo) is None, (code, i, ch)


@pytest.mark.parametrize("code", SAMPLES)
def test_every_adjacent_transposition_is_caught(code):
    compact = code.replace("-", "")
    for i in range(len(compact) - 1):
        if compact[i] != compact[i + 1]:
            swapped = compact[:i] + compact[i + 1] + compact[i] + compact[i + 2 :]
            assert codes.normalise_code(swapped) is None, (code, i)


@pytest.mark.parametrize("base", ["K7QM3XRT9WBCHN4", "000000000000000"])
def test_every_transposition_of_every_pair_of_symbols_is_caught(base):
    # Every ordered pair of distinct symbols at every position: a weak check (such as
    # ISO 7064 MOD 33,32, whose modulus is not prime) lets a few dozen of these through.
    for i in range(len(base) - 1):
        for a in codes.ALPHABET:
            for b in codes.ALPHABET:
                if a == b:
                    continue
                data = base[:i] + a + b + base[i + 2 :]
                swapped = base[:i] + b + a + base[i + 2 :]
                check = codes._check_character(data)
                assert codes.normalise_code(swapped + check) is None, (data, i)


def test_confusable_letters_case_and_separators_normalise():
    data = "0110V" + "".join(random.choice(codes.ALPHABET) for _ in range(10))
    code = codes.format_code(data + codes._check_character(data))
    typed = "oIlOu" + code.replace("-", "")[5:]
    assert codes.normalise_code(typed) == code
    assert codes.normalise_code(typed.lower()) == code
    assert codes.normalise_code(" " + " ".join(code.split("-")) + " ") == code
    assert codes.normalise_code(code.replace("-", ".")) == code


@pytest.mark.parametrize("text", ["", "ABC", "0000-0000-0000-00000", "0000-0000-0000-00*0", "ÀÀÀÀ"])
def test_what_cannot_be_a_code_normalises_to_none(text):
    assert codes.normalise_code(text) is None


def test_pins_are_six_digits_and_digests_depend_on_salt_and_pepper():
    pins = {codes.generate_pin() for _ in range(200)}
    assert all(len(p) == 6 and p.isdigit() for p in pins)
    salt = codes.new_salt()
    digest = codes.hash_pin("pepper", salt, "123456")
    assert codes.pin_matches("pepper", salt, "123456", digest)
    assert not codes.pin_matches("pepper", salt, "123457", digest)
    assert not codes.pin_matches("other", salt, "123456", digest)
    assert digest != codes.hash_pin("pepper", codes.new_salt(), "123456")
    assert "123456" not in digest
