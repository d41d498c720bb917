"""Eligibility and the issuance refusals: every rule of a scheme, with its boundaries."""

from datetime import date, timedelta

import pytest

from tests import factories as f
from tests.services.world import DAY, END, YEAR, make_world
from voucher.errors import BudgetExceeded, LimitReached, NotEligible, SchemeNotActive
from voucher.extensions import db
from voucher.models import Comune, Ente
from voucher.services import SYSTEM, issuance, schemes, vouchers
from voucher.services.eligibility import check_eligibility

BANDS = [
    {"isee_max_cents": 2_000_000, "coverage_percent": 60},
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},  # given out of order on purpose
    {"isee_max_cents": 3_000_000, "coverage_percent": 30},
]


def _world(scheme_kw=None, **person_kw):
    return make_world(issue=False, person_kw=person_kw, **(scheme_kw or {}))


def _issue(world, day=DAY):
    return issuance.issue_voucher(SYSTEM, world.scheme, world.person, day=day)


@pytest.mark.parametrize(
    ("scheme_kw", "person_kw", "rule"),
    [
        ({"eligible_categories": ["disabled"]}, {"categories": ["minor"]}, "category"),
        ({"min_age": 65}, {"age": 40}, "min_age"),
        ({"max_age": 17}, {"age": 40}, "max_age"),
        ({"isee_max_cents": 1_000_000}, {"isee_cents": 1_000_001}, "isee_max"),
        ({"isee_max_cents": 1_000_000}, {"isee_cents": None}, "isee_valid"),
        (
            {"isee_max_cents": 1_000_000},
            {"isee_valid_until": DAY - timedelta(days=1)},
            "isee_valid",
        ),
        ({"copay_bands": BANDS}, {"isee_cents": 3_000_001}, "copay_band"),
        ({"copay_bands": BANDS, "isee_required": True}, {"isee_cents": None}, "isee_valid"),
        (
            {"copay_bands": BANDS, "isee_required": True},
            {"isee_valid_until": DAY - timedelta(days=1)},
            "isee_valid",
        ),
    ],
)
def test_a_failed_rule_refuses_issuance_and_is_named(app, scheme_kw, person_kw, rule):
    world = _world(scheme_kw, **person_kw)
    failed = [r.rule for r in check_eligibility(world.scheme, world.person, DAY) if not r.ok]
    assert failed == [rule]
    with pytest.raises(NotEligible, match=f"regola: {rule}"):
        _issue(world)


@pytest.mark.parametrize(
    ("scheme_kw", "person_kw"),
    [
        ({"eligible_categories": ["disabled", "minor"]}, {"categories": ["minor", "disabled"]}),
        ({"eligible_categories": []}, {"categories": []}),
        ({"isee_max_cents": 1_000_000}, {"isee_cents": 1_000_000}),
        ({"isee_max_cents": 1_000_000}, {"isee_valid_until": DAY}),
        ({}, {"isee_cents": None}),  # no ISEE rule: no ISEE needed
        ({"copay_bands": BANDS}, {"isee_cents": 3_000_000}),
    ],
)
def test_who_meets_every_rule_gets_a_voucher(app, scheme_kw, person_kw):
    world = _world(scheme_kw, **person_kw)
    assert all(r.ok for r in check_eligibility(world.scheme, world.person, DAY))
    voucher, _pin = _issue(world)
    assert voucher.status == "active"


@pytest.mark.parametrize(
    ("rule", "birth_years_ago", "day", "ok"),
    [
        # born on DAY's date: min_age 65 is reached on the 65th birthday, not the day before
        ("min_age", 65, DAY, True),
        ("min_age", 65, DAY - timedelta(days=1), False),
        # max_age 17 holds up to the day before the 18th birthday
        ("max_age", 18, DAY - timedelta(days=1), True),
        ("max_age", 18, DAY, False),
    ],
)
def test_age_comes_from_the_fiscal_code_to_the_day(app, rule, birth_years_ago, day, ok):
    birth = date(YEAR - birth_years_ago, DAY.month, DAY.day)
    scheme_kw = {"min_age": 65} if rule == "min_age" else {"max_age": 17}
    world = _world(scheme_kw, birth_date=birth, categories=())
    assert world.person.birth_date == birth  # decoded from the codice fiscale
    result = {r.rule: r.ok for r in check_eligibility(world.scheme, world.person, day)}
    assert result[rule] is ok
    if ok:
        assert _issue(world, day=day)[0].status == "active"
    else:
        with pytest.raises(NotEligible, match=rule):
            _issue(world, day=day)


@pytest.mark.parametrize(
    ("isee_cents", "coverage"),
    [
        (0, 90),
        (1_000_000, 90),  # the first band whose ceiling is >= the ISEE
        (1_000_001, 60),
        (2_000_000, 60),
        (2_000_001, 30),
        (3_000_000, 30),
    ],
)
def test_coverage_is_that_of_the_first_band_reaching_the_isee(app, isee_cents, coverage):
    world = _world({"copay_bands": BANDS}, isee_cents=isee_cents)
    assert _issue(world)[0].coverage_percent == coverage


def test_without_bands_coverage_is_full(app):
    world = _world({}, isee_cents=9_000_000)
    assert _issue(world)[0].coverage_percent == 100


def test_a_resident_of_another_entes_comune_is_refused(app):
    f.make_ente()
    other = Ente(name="Altro ente", fiscal_code=f.ENTE_CF)
    other.comuni = [Comune(**f.PRATO)]
    db.session.add(other)
    db.session.commit()
    world = make_world(issue=False, person_kw={"comune": f.PRATO})
    result = {r.rule: r.ok for r in check_eligibility(world.scheme, world.person, DAY)}
    assert [rule for rule, ok in result.items() if not ok] == ["residence"]
    with pytest.raises(NotEligible, match="residence"):
        _issue(world)
    # the same scheme admits a resident of one of the ente's own Comuni
    resident = f.make_beneficiary(comune=f.FIESOLE)
    assert issuance.issue_voucher(SYSTEM, world.scheme, resident, day=DAY)[0].status == "active"


@pytest.mark.parametrize(("budget_cents", "accepted"), [(100_000, 2), (99_999, 1)])
def test_budget_cap_exact_fit_accepted_one_cent_over_refused(app, budget_cents, accepted):
    world = make_world(issue=False, face_value_cents=50_000, budget_cents=budget_cents)
    for _ in range(accepted):
        world.issue(person=f.make_beneficiary())
    with pytest.raises(BudgetExceeded):
        world.issue(person=f.make_beneficiary())
    assert schemes.committed_cents(world.scheme.id) == accepted * 50_000


def test_revoking_an_unspent_voucher_gives_its_value_back_to_the_budget(app):
    world = make_world(face_value_cents=50_000, budget_cents=100_000)
    world.issue(person=f.make_beneficiary())
    with pytest.raises(BudgetExceeded):
        world.issue(person=f.make_beneficiary())
    vouchers.revoke_voucher(SYSTEM, world.voucher, "errore di emissione")
    db.session.commit()
    assert world.issue(person=f.make_beneficiary())[0].status == "active"


def test_max_active_vouchers_per_person(app):
    world = make_world(max_active_per_beneficiary=1)
    with pytest.raises(LimitReached):
        world.issue()
    vouchers.suspend_voucher(SYSTEM, world.voucher, "verifica")
    db.session.commit()
    with pytest.raises(LimitReached):  # a suspended voucher still counts
        world.issue()
    vouchers.revoke_voucher(SYSTEM, world.voucher, "rinuncia")
    db.session.commit()
    assert world.issue()[0].status == "active"


@pytest.mark.parametrize("how", ["draft", "closed", "past_validity"])
def test_a_scheme_that_is_not_active_issues_nothing(app, how):
    world = make_world(issue=False, status="draft" if how == "draft" else "active")
    day = DAY
    if how == "closed":
        schemes.close_scheme(SYSTEM, world.scheme)
        db.session.commit()
    if how == "past_validity":
        day = END + timedelta(days=1)
    with pytest.raises(SchemeNotActive):
        _issue(world, day=day)
