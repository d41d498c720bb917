"""Property-based test of the ledger: random sequences of issue, redeem, reverse, revoke,
replace and expire (by moving the day on), checked after every step against a plain Python
model of the rules, with the ledger's invariant and the audit chain.

The scheme and its world are built once per test; each example runs inside a SAVEPOINT of
the test's transaction and is rolled back, so every example starts from the same state.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests import factories as f
from tests.services.world import START, provider_actor
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.models import Beneficiary, LedgerEntry, Provider, Voucher
from voucher.services import SYSTEM, issuance, redemption, schemes, vouchers
from voucher.services.audit_verify import verify_chain
from voucher.services.redemption import RedemptionRequest

PRICE = 1_999  # cents an hour: an odd price, so that quantities round
FACE = 10_000
BUDGET = 35_000  # three vouchers and a half: a fourth waits until money is released
LIMIT = 12_000  # max cost of one redemption
MAX_ACTIVE = 2
VALID_UNTIL = START + timedelta(days=20)
BANDS = [
    {"isee_max_cents": 1_500_000, "coverage_percent": 100},
    {"isee_max_cents": 3_000_000, "coverage_percent": 67},
]
PEOPLE = [(1_000_000, 100), (2_000_000, 67)]  # ISEE and the coverage it gets
# provider index -> services it is accredited for
ACCREDITED = [("A1", "A2"), ("A1",)]


@dataclass
class Base:
    scheme_id: int
    person_ids: list
    provider_ids: list


@dataclass
class ModelVoucher:
    code: str
    value: int
    coverage: int
    person: int
    balance: int = 0
    status: str = "active"

    def __post_init__(self):
        self.balance = self.value


@dataclass
class ModelEntry:
    id: int
    kind: str
    code: str
    public: int
    reversed: bool = False


@dataclass
class Model:
    day: object = START
    vouchers: list = field(default_factory=list)
    entries: list = field(default_factory=list)

    def committed(self) -> int:
        return sum(
            v.value - v.balance if v.status in ("revoked", "expired") else v.value
            for v in self.vouchers
        )

    def redeemed(self) -> int:
        return sum(e.public for e in self.entries)

    def by_code(self, code) -> ModelVoucher:
        return next(v for v in self.vouchers if v.code == code)


def _build_base() -> Base:
    f.make_ente()
    scheme = f.make_scheme(
        unit="HOUR",
        unit_price_cents=PRICE,
        face_value_cents=FACE,
        budget_cents=BUDGET,
        valid_from=START,
        valid_until=VALID_UNTIL,
        max_active_per_beneficiary=MAX_ACTIVE,
        max_redemption_cents=LIMIT,
        copay_bands=BANDS,
    )
    people = [f.make_beneficiary(isee_cents=isee).id for isee, _ in PEOPLE]
    providers = [f.make_provider(services=s, valid_from=START).id for s in ACCREDITED]
    return Base(scheme.id, people, providers)


# --- the model's prediction of each operation: the error class name, or None -------------


def _predict_issue(model: Model, person: int):
    if model.day > VALID_UNTIL:
        return "SchemeNotActive"
    active = [
        v for v in model.vouchers if v.person == person and v.status in ("active", "suspended")
    ]
    if len(active) >= MAX_ACTIVE:
        return "LimitReached"
    if model.committed() + FACE > BUDGET:
        return "BudgetExceeded"
    return None


def _cost(kind: str, value, balance: int) -> int:
    if kind == "rest":
        return balance  # what is left on the voucher: exhausts it at full coverage
    if kind == "amount":
        return value
    hundredths = int(value * 100)
    return (hundredths * PRICE + 50) // 100  # half-up, in integers


def _predict_redeem(model: Model, v: ModelVoucher, provider: int, service: str, cost: int):
    if v.status == "revoked":
        return "VoucherRevoked"
    if v.status == "expired" or model.day > VALID_UNTIL:
        return "VoucherExpired"
    if v.status == "exhausted" or v.balance == 0:
        return "VoucherExhausted"
    if service not in ACCREDITED[provider]:
        return "NotAccredited"
    if cost > LIMIT:
        return "OverRedemptionLimit"
    if (cost * v.coverage + 50) // 100 > v.balance:
        return "InsufficientBalance"
    return None


# --- playing one sequence ----------------------------------------------------------------


def _attempt(action):
    """Run one service call; commit on success, roll back on a refusal. Returns
    (result, error class name or None)."""
    try:
        result = action()
    except DomainError as error:
        db.session.rollback()
        return None, type(error).__name__
    db.session.commit()
    return result, None


def _step(base: Base, model: Model, op: tuple, n: int) -> None:
    scheme = schemes.get_scheme(base.scheme_id)
    kind = op[0]
    if kind == "issue":
        person = op[1]
        expected = _predict_issue(model, person)
        beneficiary = db.session.get(Beneficiary, base.person_ids[person])
        result, error = _attempt(
            lambda: issuance.issue_voucher(SYSTEM, scheme, beneficiary, day=model.day)
        )
        assert error == expected, (op, error, expected)
        if result:
            voucher, _pin = result
            model.vouchers.append(ModelVoucher(voucher.code, FACE, PEOPLE[person][1], person))
            assert voucher.coverage_percent == PEOPLE[person][1]
    elif kind == "redeem":
        if not model.vouchers:
            return
        _, index, provider, service, (how, value), back = op
        v = model.vouchers[index % len(model.vouchers)]
        cost = _cost(how, value, v.balance)
        expected = _predict_redeem(model, v, provider, service, cost)
        service_date = max(START, model.day - timedelta(days=back))
        prov = db.session.get(Provider, base.provider_ids[provider])
        req = RedemptionRequest(
            voucher=v.code,
            service_code=service,
            service_date=service_date,
            amount_cents=None if how == "quantity" else cost,
            quantity=value if how == "quantity" else None,
        )
        result, error = _attempt(
            lambda: redemption.redeem(provider_actor(prov), prov.id, req, f"op-{n}", day=model.day)
        )
        assert error == expected, (op, error, expected)
        if result:
            entry, replayed = result
            public = (cost * v.coverage + 50) // 100
            assert not replayed
            assert (entry.amount_cents, entry.public_cents) == (cost, public)
            assert entry.copay_cents == cost - public
            v.balance -= public
            if v.balance == 0:
                v.status = "exhausted"
            model.entries.append(ModelEntry(entry.id, "redemption", v.code, public))
    elif kind == "reverse":
        if not model.entries:
            return
        e = model.entries[op[1] % len(model.entries)]
        if e.kind == "reversal":
            expected = "ValidationFailed"
        elif e.reversed:
            expected = "AlreadyReversed"
        else:
            expected = None
        result, error = _attempt(
            lambda: redemption.reverse_redemption(SYSTEM, e.id, "verifica contabile")
        )
        assert error == expected, (op, error, expected)
        if result:
            e.reversed = True
            v = model.by_code(e.code)
            v.balance += e.public
            if v.status == "exhausted" and v.balance > 0:
                v.status = "active"
            model.entries.append(ModelEntry(result.id, "reversal", e.code, -e.public))
    elif kind in ("revoke", "replace"):
        if not model.vouchers:
            return
        v = model.vouchers[op[1] % len(model.vouchers)]
        allowed = ("active", "suspended", "exhausted") if kind == "revoke" else ("active",)
        expected = None if v.status in allowed else "Conflict"
        voucher = vouchers.get_voucher(v.code)
        if kind == "revoke":
            action = lambda: vouchers.revoke_voucher(SYSTEM, voucher, "rinuncia")  # noqa: E731
        else:
            action = lambda: vouchers.replace_voucher(SYSTEM, voucher, "smarrito")  # noqa: E731
        result, error = _attempt(action)
        assert error == expected, (op, error, expected)
        if result:
            v.status = "revoked"
            if kind == "replace":
                new, _pin = result
                assert new.value_cents == v.balance
                model.vouchers.append(ModelVoucher(new.code, v.balance, v.coverage, v.person))
    elif kind == "advance":
        model.day += timedelta(days=op[1])
        due = [
            v
            for v in model.vouchers
            if model.day > VALID_UNTIL and v.status in ("active", "suspended")
        ]
        count, error = _attempt(lambda: vouchers.expire_vouchers(SYSTEM, day=model.day))
        assert error is None and count == len(due)
        for v in due:
            v.status = "expired"


def _check(base: Base, model: Model) -> None:
    """The ledger's invariant for every voucher, the budget aggregates and the audit chain."""
    rows = db.session.execute(
        select(Voucher.code, Voucher.value_cents, Voucher.balance_cents, Voucher.status).where(
            Voucher.scheme_id == base.scheme_id
        )
    ).all()
    spent = dict(
        db.session.execute(
            select(Voucher.code, func.coalesce(func.sum(LedgerEntry.public_cents), 0))
            .outerjoin(LedgerEntry, LedgerEntry.voucher_id == Voucher.id)
            .where(Voucher.scheme_id == base.scheme_id)
            .group_by(Voucher.code)
        ).all()
    )
    assert len(rows) == len(model.vouchers)
    for code, value, balance, status in rows:
        expected = model.by_code(code)
        assert value - spent[code] == balance >= 0, code
        assert (value, balance, status) == (expected.value, expected.balance, expected.status)
    assert schemes.committed_cents(base.scheme_id) == model.committed() <= BUDGET
    assert schemes.redeemed_cents(base.scheme_id) == model.redeemed()
    assert verify_chain().ok


AMOUNTS = st.one_of(
    st.tuples(st.just("amount"), st.integers(1, 12_500)),
    st.tuples(st.just("rest"), st.none()),
    st.tuples(st.just("quantity"), st.integers(1, 480).map(lambda q: Decimal(q) / 100)),
)
REDEEM = st.tuples(
    st.just("redeem"),
    st.integers(0, 9),
    st.integers(0, len(ACCREDITED) - 1),
    st.sampled_from(["A1", "A2"]),
    AMOUNTS,
    st.integers(0, 3),
)
# Every sequence starts with a voucher for each person, so that it has something to spend.
OPENING = [("issue", person) for person in range(len(PEOPLE))]
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.integers(0, len(PEOPLE) - 1)),
        REDEEM,
        REDEEM,  # twice: redemptions are most of what happens to a voucher
        st.tuples(st.just("reverse"), st.integers(0, 19)),
        st.tuples(st.sampled_from(["revoke", "replace"]), st.integers(0, 9)),
        st.tuples(st.just("advance"), st.integers(1, 8)),
    ),
    min_size=5,
    max_size=12,
)


def test_ledger_invariants_hold_for_any_sequence(app):
    base = _build_base()
    db.session.close()
    connection = db.session.get_bind()

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(operations=OPERATIONS)
    def play(operations):
        savepoint = connection.begin_nested()
        try:
            model = Model()
            for n, op in enumerate(OPENING + operations):
                _step(base, model, op, n)
                _check(base, model)
        finally:
            db.session.close()
            savepoint.rollback()

    play()
