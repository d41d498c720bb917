"""Reading a voucher and recording a service: scan → card → preview → confirm → receipt.

Every step is a POST, so no voucher code reaches a URL, a server log or the browser's
history. The record form carries an idempotency key made when it is first shown: however
often it is sent, one service is recorded once.
"""

import secrets

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ...errors import DomainError, IdempotencyConflict
from ...models import LedgerEntry, Voucher
from ...services import cancellation, clock, redemption, vouchers
from ...services.redemption import RedemptionRequest
from ..filters import localized_name, quantity_text
from ..labels import UNIT_LABELS
from ..lookups import load_or_404, reach_or_404
from ..refusals import apply_domain_error, show_refusal
from ..security import current_actor, permission_required
from ..wording import translated
from .blueprint import bp
from .cancel import cancellable_ids
from .common import current_provider, voucher_card
from .forms import RecordForm, ScanForm

# The services' error keys, as the record form names its fields.
FIELD_MAP = {
    "amount_cents": "amount",
    "quantity": "quantity",
    "hours": "hours",
    "service_date": "service_date",
}


def find_voucher(reference: str) -> Voucher:
    """A voucher by typed code or by signed QR payload (whose signature is checked first)."""
    return vouchers.get_voucher(redemption.resolve_voucher_code(reference))


def _new_key() -> str:
    return "web-" + secrets.token_urlsafe(24)


def _prepare(form: RecordForm, voucher: Voucher, card) -> RecordForm:
    """Keep the field the scheme's unit needs, and offer the scheme's services."""
    if voucher.scheme.unit == "EUR":
        del form.quantity
    else:
        del form.amount
        del form.hours
        form.quantity.label.text = _(
            "Quantità (%(unit)s)", unit=str(UNIT_LABELS[voucher.scheme.unit]).lower()
        )
        form.quantity.description = _("Al massimo due decimali, ad esempio 1,5.")
    form.service_code.choices = [SelectChoice("", _("Scegli il servizio svolto"))] + [
        SelectChoice(s.code, f"{s.code} — {localized_name(s)}") for s in card.choices
    ]
    return form


def _card_page(voucher: Voucher, form: RecordForm | None = None, card=None):
    """The voucher card and, when the voucher can be used, the record form (a new one, or
    the one sent back with its values and errors)."""
    card = card or voucher_card(voucher, current_provider())
    if form is None:
        form = RecordForm(formdata=None, voucher=voucher.code, key=_new_key())
        form.service_date.data = clock.today()
        if len(card.choices) == 1:
            form.service_code.data = card.choices[0].code
        _prepare(form, voucher, card)
    return render_template(
        "provider/card.html",
        card=card,
        voucher=voucher,
        scheme=voucher.scheme,
        form=form,
        today=clock.today(),
    )


@bp.route("/", methods=["GET", "POST"])
@permission_required("redemption.create")
def scan():
    """Read a voucher: camera, photo, typed or pasted code, or a barcode scanner."""
    form = ScanForm()
    if form.validate_on_submit():
        try:
            voucher = find_voucher(form.voucher.data)
        except DomainError as error:
            flash(translated(error.detail), "danger")
            form.voucher.errors = [
                _("Controllare il codice (16 caratteri) oppure leggere di nuovo il QR code.")
            ]
        else:
            return _card_page(voucher)
    return render_template("provider/scan.html", form=form)


def _form_voucher(form: RecordForm) -> Voucher | None:
    try:
        return vouchers.get_voucher(form.voucher.data or "")
    except DomainError:
        return None


def _start_again():
    flash(_("Il modulo è incompleto: leggere di nuovo il buono."), "warning")
    return redirect(url_for("provider.scan"))


def _request(form: RecordForm, voucher: Voucher) -> RedemptionRequest:
    return RedemptionRequest(
        voucher=voucher.code,
        service_code=form.service_code.data,
        service_date=form.service_date.data,
        amount_cents=form.amount.data if "amount" in form else None,
        quantity=form.quantity.data if "quantity" in form else None,
        hours=form.hours.data if "hours" in form else None,
    )


def _valid_form() -> tuple[RecordForm, Voucher | None, object]:
    """The record form as sent, and its voucher (None when the form was tampered with)."""
    form = RecordForm()
    voucher = _form_voucher(form)
    if voucher is None or not form.key.validate(form):
        return form, None, None
    card = voucher_card(voucher, current_provider())
    _prepare(form, voucher, card)
    return form, voucher, card


@bp.route("/anteprima", methods=["POST"])
@permission_required("redemption.create")
def preview():
    """Cost, public share and co-payment, checked like the real thing, before confirming.
    The balance after it reads in the units it buys at today's coverage, even for a service
    dated before an ISEE renewal: that is what the money left pays for from now on."""
    form, voucher, card = _valid_form()
    if voucher is None:
        return _start_again()
    if request.form.get("edit"):  # "Modifica" on the preview page: back to the form
        return _card_page(voucher, form, card)
    if not form.validate():
        return _card_page(voucher, form, card)
    try:
        quote = redemption.quote_redemption(current_provider(), _request(form, voucher))
    except DomainError as error:
        apply_domain_error(form, error, FIELD_MAP)
        return _card_page(voucher, form, card)
    return render_template(
        "provider/preview.html",
        form=form,
        quote=quote,
        voucher=voucher,
        scheme=voucher.scheme,
        service=next(s for s in voucher.scheme.services if s.code == form.service_code.data),
        quantity=quantity_text(quote.quantity, voucher.scheme.unit),
        hours=quantity_text(form.hours.data, "HOUR") if "hours" in form else None,
    )


@bp.route("/conferma", methods=["POST"])
@permission_required("redemption.create")
def confirm():
    """Record the service; a second send of the same form finds it already recorded."""
    form, voucher, card = _valid_form()
    if voucher is None:
        return _start_again()
    if not form.validate():
        return _card_page(voucher, form, card)
    # A lost race on the idempotency key makes the request boundary run this view again,
    # and the service then finds the winner's entry: a replay.
    try:
        entry, replayed = redemption.redeem(
            current_actor(), current_provider().id, _request(form, voucher), form.key.data
        )
    except IdempotencyConflict:
        flash(
            _(
                "Questo modulo è già stato usato per registrare una prestazione con dati "
                "diversi. Per registrarne un'altra, leggere di nuovo il buono."
            ),
            "warning",
        )
        return redirect(url_for("provider.scan"))
    except DomainError as error:
        show_refusal(error, form, FIELD_MAP)
        return _card_page(voucher, form)  # the card read afresh after the rollback
    if replayed:
        flash(_("Questa prestazione era già stata registrata: nessun nuovo addebito."), "info")
    else:
        flash(_("Prestazione registrata."), "success")
    return redirect(url_for("provider.receipt", entry_id=entry.id))


@bp.route("/prestazioni/<int:entry_id>/ricevuta")
@permission_required("redemption.create")
def receipt(entry_id: int):
    """A printable receipt of one of the provider's own ledger entries; the balance after
    it in the units it buys at today's coverage, as on the preview."""
    entry = load_or_404(LedgerEntry, entry_id)
    reach_or_404(entry.provider_id)
    scheme = entry.voucher.scheme
    return render_template(
        "provider/receipt.html",
        entry=entry,
        voucher=entry.voucher,
        scheme=scheme,
        provider=entry.provider,
        quantity=quantity_text(entry.quantity, scheme.unit),
        cancellable=bool(cancellable_ids([entry])),
        by_provider=bool(cancellation.cancelled_by_provider([entry.id])),
    )
