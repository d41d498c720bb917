"""The reports reconcile, to the cent, with an independent computation over random ledgers.

Each example lives in a year of its own (schemes, vouchers and service dates), so that the
examples of one test never see each other's figures."""

import itertools
from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests import factories as f
from tests.reports.world import Ledger, headers_for, issue, make_provider, make_scheme, parse
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.services import SYSTEM, vouchers

_years = itertools.count(2003, 2)  # a year apart: no example is the previous year of another
NS = {"s": "http://inps.it/Casellario"}
COMUNI = (f.FIRENZE, f.FIESOLE)
CATEGORIES = (
    "elderly_self_sufficient",
    "elderly_dependent",
    "minor",
    "fragile_parenting",
    "disabled",
    "inclusion_household",
)
GROUP_RULES = (
    ("anziani", {"elderly_self_sufficient", "elderly_dependent"}),
    ("disabili", {"disabled"}),
    ("famiglia_minori", {"minor", "fragile_parenting"}),
    ("poverta", {"inclusion_household"}),
)
BANDS = [
    {"isee_max_cents": 1_000_000, "coverage_percent": 90},
    {"isee_max_cents": 3_000_000, "coverage_percent": 65},
]


def user_group(categories) -> str:
    return next((g for g, cats in GROUP_RULES if cats & set(categories)), "multiutenza")


def build_world(year: int, draw):
    """Schemes of every kind, random people, vouchers and ledger entries, with what the test
    knows of them."""
    schemes = {
        "A": make_scheme(year, "A", copay_bands=BANDS),
        "B": make_scheme(year, "B", unit="EUR", unit_price_cents=None, face_value_cents=30_000),
        "C": make_scheme(year, "C", unit_price_cents=1750),
        "P": make_scheme(year, "P", fund="FONDO_POVERTA"),
        "N": make_scheme(year, "A", fund="FNPS"),
    }
    providers = [make_provider(year), make_provider(year)]
    people = []
    for _ in range(draw(st.integers(1, 4))):
        person = f.make_beneficiary(
            comune=draw(st.sampled_from(COMUNI)),
            categories=draw(st.lists(st.sampled_from(CATEGORIES), max_size=3, unique=True)),
            isee_cents=draw(st.integers(0, 2_900_000)),
        )
        people.append(person)
    issued = []
    for person in people:
        for key in draw(st.lists(st.sampled_from(sorted(schemes)), max_size=3, unique=True)):
            issued.append(issue(schemes[key], person))
    ledger = Ledger()
    if not issued:
        return schemes, providers, people, issued, ledger
    for _ in range(draw(st.integers(0, 12))):
        voucher = draw(st.sampled_from(issued))
        scheme = voucher.scheme
        day = date(year, draw(st.integers(1, 12)), draw(st.integers(1, 28)))
        service = draw(st.sampled_from(scheme.service_codes))
        provider = draw(st.sampled_from(providers))
        if scheme.unit == "EUR":
            kwargs = {"amount": draw(st.integers(1, 9_000))}
        else:
            kwargs = {"quantity": str(draw(st.integers(1, 600)) / Decimal(100))}
        try:
            entry = ledger.redeem(provider, voucher, service, day, **kwargs)
        except DomainError:
            db.session.rollback()
            continue
        if draw(st.booleans()) and draw(st.booleans()):
            ledger.reverse(entry)
    for voucher in issued:
        if draw(st.integers(0, 5)) == 0:
            vouchers.revoke_voucher(SYSTEM, voucher, "Trasferito")
            db.session.commit()
    if draw(st.booleans()):
        vouchers.expire_vouchers(SYSTEM, day=date(year + 1, 1, 1))
        db.session.commit()
    for voucher in issued:
        db.session.refresh(voucher)
    return schemes, providers, people, issued, ledger


def expected_vouchers(issued, ledger):
    """Per voucher: spent (public shares), balance, committed, expired unused."""
    spent = defaultdict(int)
    for e in ledger.entries:
        spent[e.voucher_id] += e.public_cents
    out = {}
    for v in issued:
        balance = v.value_cents - spent[v.id]
        assert balance == v.balance_cents  # the ledger's invariant, for good measure
        released = v.status in ("revoked", "expired")
        out[v.id] = {
            "spent": spent[v.id],
            "committed": v.value_cents - balance if released else v.value_cents,
            "expired_unused": balance if v.status == "expired" else 0,
        }
    return out


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_reports_reconcile_with_the_ledger(app, client, data):
    year = next(_years)
    f.make_ente()
    schemes, providers, people, issued, ledger = build_world(year, data.draw)
    event(f"entries: {min(len(ledger.entries), 10)}+")
    figures = expected_vouchers(issued, ledger)
    headers = headers_for(client, "auditor")
    by_id = {v.id: v for v in issued}
    person_of = {p.id: p for p in people}

    # Funds: one row per scheme of the year.
    funds = client.get(f"/api/v1/reports/funds?year={year}", headers=headers).get_json()
    rows = {r["scheme_id"]: r for r in funds["rows"]}
    assert set(rows) == {s.id for s in schemes.values()}
    for scheme in schemes.values():
        mine = [v for v in issued if v.scheme_id == scheme.id]
        row = rows[scheme.id]
        assert row["fund_code"] == scheme.fund_code
        assert row["budget_cents"] == scheme.budget_cents
        assert row["vouchers"] == len(mine)
        assert row["committed_cents"] == sum(figures[v.id]["committed"] for v in mine)
        assert row["redeemed_cents"] == sum(figures[v.id]["spent"] for v in mine)
        assert row["expired_unused_cents"] == sum(figures[v.id]["expired_unused"] for v in mine)
        assert row["residual_cents"] == scheme.budget_cents - row["committed_cents"]
    assert funds["totals"]["redeemed_cents"] == sum(e.public_cents for e in ledger.entries)

    # FSC: Comune × area of the FSC_OS schemes (A, B, C), not FNPS nor Fondo Povertà.
    fsc = client.get(f"/api/v1/reports/fsc?year={year}", headers=headers).get_json()
    expected = {}
    fsc_ids = {schemes[k].id: k for k in "ABC"}
    for v in issued:
        if v.scheme_id not in fsc_ids:
            continue
        person = person_of[v.beneficiary_id]
        row = expected.setdefault(
            (person.comune.istat_code, fsc_ids[v.scheme_id]),
            {
                "people": set(),
                "vouchers": 0,
                "committed": 0,
                "redeemed": 0,
                "copay": 0,
                "hours": Decimal(0),
            },
        )
        row["people"].add(person.id)
        row["vouchers"] += 1
        row["committed"] += figures[v.id]["committed"]
    for e in ledger.entries:
        v = by_id[e.voucher_id]
        if v.scheme_id not in fsc_ids:
            continue
        row = expected[(person_of[v.beneficiary_id].comune.istat_code, fsc_ids[v.scheme_id])]
        row["redeemed"] += e.public_cents
        row["copay"] += e.copay_cents
        if v.scheme.unit == "HOUR":
            row["hours"] += e.quantity or 0
    got = {(r["comune_istat"], r["area"]): r for r in fsc["rows"]}
    assert set(got) == set(expected)
    for key, want in expected.items():
        row = got[key]
        assert row["beneficiaries"] == len(want["people"])
        assert row["vouchers"] == want["vouchers"]
        assert row["committed_cents"] == want["committed"]
        assert row["redeemed_cents"] == want["redeemed"]
        assert row["copay_cents"] == want["copay"]
        assert Decimal(str(row["hours"])) == want["hours"]
        groups = defaultdict(int)
        for pid in want["people"]:
            groups[user_group(person_of[pid].categories)] += 1
        assert {g: n for g, n in row["user_groups"].items() if n} == dict(groups)
    everyone = set().union(*(w["people"] for w in expected.values()))
    assert fsc["totals"]["beneficiaries"] == len(everyone)
    assert fsc["totals"]["redeemed_cents"] == sum(w["redeemed"] for w in expected.values())

    # Fondo Povertà: nothing is paid until statements are approved and paid.
    poverty = client.get(f"/api/v1/reports/fondo-poverta?year={year}", headers=headers)
    (p_row,) = poverty.get_json()["rows"]
    p_vouchers = [v for v in issued if v.scheme_id == schemes["P"].id]
    assert p_row["committed_cents"] == sum(figures[v.id]["committed"] for v in p_vouchers)
    assert p_row["redeemed_cents"] == sum(figures[v.id]["spent"] for v in p_vouchers)
    assert p_row["paid_cents"] == 0

    # Statements: every provider's month holds exactly its entries, net.
    for provider in providers:
        for month in (3, 7, 12):
            body = client.get(
                f"/api/v1/reports/providers/{provider.id}/statement?month={year}-{month:02d}",
                headers=headers,
            ).get_json()
            mine = [
                e
                for e in ledger.entries
                if e.provider_id == provider.id and e.service_date.month == month
            ]
            assert sorted(line["entry_id"] for line in body["lines"]) == sorted(e.id for e in mine)
            assert body["total_public_cents"] == sum(e.public_cents for e in mine)
            assert body["total_copay_cents"] == sum(e.copay_cents for e in mine)
            assert body["status"] == "open"

    # SIUSS: one PrestazioniSociali per voucher with activity, quota ente = public shares.
    response = client.get(
        f"/api/v1/reports/siuss?from={year}-01-01&to={year}-12-31", headers=headers
    )
    net = defaultdict(lambda: [0, 0, 0])
    for e in ledger.entries:
        net[e.voucher_id][0] += e.amount_cents
        net[e.voucher_id][1] += e.public_cents
        net[e.voucher_id][2] += e.copay_cents
    active = {by_id[vid].code: n for vid, n in net.items() if any(n)}
    if not active:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    root = parse(response.data)
    found = {}
    for node in root.iterfind("s:Beneficiario", NS):
        prestazioni = node.findall("s:PrestazioniSociali", NS)
        assert prestazioni
        for p in prestazioni:
            found[p.get("ProtocolloDomanda")] = (
                p.get("ImportoQuotaEnte"),
                p.get("ImportoQuotaUtente"),
            )
    assert len(root.findall("s:Beneficiario", NS)) == len(
        {by_id[vid].beneficiary_id for vid, n in net.items() if any(n)}
    )
    assert found == {code: (f"{n[1] / 100:.2f}", f"{n[2] / 100:.2f}") for code, n in active.items()}
