"""The demo's liquidation chain: the providers' payment data, approved statements, their
FatturaPA invoices and one payment, so that each payment state shows.

- PAID_PROVIDER: everything a payment needs; the month before last paid, last month approved
  and invoiced, ready to pay;
- NO_IBAN_PROVIDER: last month approved, blocked by the missing IBAN (its scheme is a
  `contribution`, which needs no invoice), and a DURC about to expire;
- EXPIRED_DURC_PROVIDER: last month approved, blocked by the expired DURC and the missing invoice;
- MISMATCH_PROVIDER: an invoice recorded while last month was open, then a service of that
  month reversed: the approved statement no longer matches its invoice.
"""

import random
from datetime import date, timedelta
from decimal import Decimal

from stdnum import iban

from ..models import Provider
from ..periods import Month
from ..services import Actor, ente, payments, redemption, statements
from ..services.money import cost_of, public_share
from .activity import Issued
from .data import (
    EXPIRED_DURC_PROVIDER,
    MISMATCH_PROVIDER,
    NO_IBAN_PROVIDER,
    PAID_PROVIDER,
    PAYMENT_DATA,
    PROVIDERS,
    SCHEMES,
)
from .invoices import invoice_xml

# What a digit in an odd place adds to the CIN, the check letter of an Italian account number.
_CIN_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21)


def demo_iban(rng: random.Random) -> str:
    """A fictional Italian IBAN (bank, branch, account) whose CIN and check digits are right."""
    digits = f"{rng.randrange(10**4, 10**5):05d}{rng.randrange(10**4, 10**5):05d}"
    digits += f"{rng.randrange(10**11, 10**12):012d}"
    total = sum(_CIN_ODD[int(c)] if i % 2 == 0 else int(c) for i, c in enumerate(digits))
    bban = chr(ord("A") + total % 26) + digits
    return f"IT{iban.calc_check_digits('IT00' + bban)}{bban}"


def record_payment_data(actor: Actor, rng: random.Random, provider_by_key, today: date) -> None:
    """Each provider's codice fiscale (a cooperative's is its partita IVA), IBAN, DURC and
    dedicated-account declaration, as PAYMENT_DATA says."""
    for key, (durc_days, has_iban, declared) in PAYMENT_DATA.items():
        provider = provider_by_key[key]
        payments.update_payment_data(
            actor,
            provider,
            fiscal_code=provider.vat_number,
            iban=demo_iban(rng) if has_iban else None,
            durc_valid_until=None if durc_days is None else today + timedelta(days=durc_days),
            dedicated_account_declared=declared,
        )


def _services_of(provider: Provider) -> set[str]:
    return next(set(services) for _k, name, services in PROVIDERS if name == provider.name)


def _open_redemptions(provider: Provider, month: Month, purchase: bool) -> list[dict]:
    lines = statements.statement_lines(provider.id, month, None)
    reversed_ids = {line["reverses_id"] for line in lines if line["reverses_id"]}
    return [
        line
        for line in lines
        if line["kind"] == "redemption"
        and line["entry_id"] not in reversed_ids
        and not line["carried_over"]
        and (line["legal_model"] == "purchase" or not purchase)
    ]


def ensure_services(actor, issued: list[Issued], provider, month: Month, count: int, purchase):
    """At least `count` services of the provider in `month` (of `purchase` schemes when asked),
    recorded on its vouchers where the random activity left the month short of them."""
    missing = count - len(_open_redemptions(provider, month, purchase))
    accredited = _services_of(provider)
    for step in range(max(missing, 0)):
        day = month.start + timedelta(days=9 + 3 * step)
        for item in issued:
            voucher, scheme = item.voucher, item.voucher.scheme
            if (
                item.provider.id != provider.id
                or voucher.status != "active"
                or (purchase and scheme.legal_model != "purchase")
                or not (item.issued_on < day and voucher.valid_from <= day <= voucher.valid_until)
            ):
                continue
            quantity = Decimal(min(SCHEMES[item.key][1], key=Decimal))
            cost = cost_of(quantity, scheme.unit_price_cents)
            if public_share(cost, voucher.coverage_percent) >= voucher.balance_cents:
                continue  # never exhaust a voucher: the demo shows exactly one exhausted
            service = sorted(set(scheme.service_codes) & accredited)[0]
            entry, _replay = redemption.redeem(
                actor,
                provider.id,
                redemption.RedemptionRequest(
                    voucher=voucher.code, service_code=service, service_date=day, quantity=quantity
                ),
                f"demo-statement-{provider.id}-{month}-{step}",
                day=day,
            )
            item.entries.append(entry)
            break


class Invoicer:
    """The invoices the demo providers send, numbered in sequence per provider."""

    def __init__(self, today: date):
        self.today = today
        self.numbers: dict[int, int] = {}

    def invoice_statement(self, actor, provider, month: Month, vat_percent=None) -> None:
        """One invoice for each amount the provider's month asks to invoice (one per CUP)."""
        the_ente = ente.get_ente()
        lines = statements.statement_lines(
            provider.id, month, statements.find_statement(provider.id, month)
        )
        for cup, cents in payments.amounts_to_invoice(statements.subtotals(lines)).items():
            if cents <= 0:
                continue
            number = self.numbers[provider.id] = self.numbers.get(provider.id, 10) + 1
            document = invoice_xml(
                provider,
                the_ente,
                number=f"{number}/{self.today.year}",
                issued_on=self.today,
                total_cents=cents,
                month_label=month.label(),
                cup=cup,
                vat_percent=vat_percent,
            )
            payments.record_invoice(
                actor, provider, month, document, filename=f"fattura-{number}.xml"
            )


def stage_liquidation(
    admin: Actor, finance: Actor, worker: Actor, issued, provider_by_key, provider_actors, today
) -> None:
    """The statements, invoices and payment of the module docstring."""
    last, before_last = Month.of(today).previous(), Month.of(today).previous().previous()
    invoicer = Invoicer(today)

    def services(key, month, count=1, purchase=True):
        ensure_services(provider_actors[key], issued, provider_by_key[key], month, count, purchase)

    paid = provider_by_key[PAID_PROVIDER]
    services(PAID_PROVIDER, before_last)
    services(PAID_PROVIDER, last)
    statements.approve_statement(admin, paid, before_last)
    # A cooperativa sociale may invoice at 5 %: VAT is what the invoice says.
    invoicer.invoice_statement(provider_actors[PAID_PROVIDER], paid, before_last, vat_percent=5)
    payments.mark_paid(finance, paid, before_last, f"Mandato n. 128/{today.year}", today)
    statements.approve_statement(admin, paid, last)
    invoicer.invoice_statement(provider_actors[PAID_PROVIDER], paid, last, vat_percent=5)

    services(NO_IBAN_PROVIDER, last, purchase=False)
    statements.approve_statement(admin, provider_by_key[NO_IBAN_PROVIDER], last)

    services(EXPIRED_DURC_PROVIDER, last)
    statements.approve_statement(admin, provider_by_key[EXPIRED_DURC_PROVIDER], last)

    mismatched = provider_by_key[MISMATCH_PROVIDER]
    services(MISMATCH_PROVIDER, last, count=2)
    invoicer.invoice_statement(provider_actors[MISMATCH_PROVIDER], mismatched, last)
    wrong = _open_redemptions(mismatched, last, purchase=True)[-1]
    redemption.reverse_redemption(worker, wrong["entry_id"], "Prestazione non resa")
    statements.approve_statement(admin, mismatched, last)
