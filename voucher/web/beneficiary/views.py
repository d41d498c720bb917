"""Sign in with code and PIN (POST, then redirect), the voucher page, the letter again, and
sign-out."""

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...balance_limits import form_limit
from ...documents.letter import letters_pdf
from ...errors import InvalidCodeOrPin, Locked
from ...extensions import limiter
from ...services import clock, letters, selfservice
from ..labels import VOUCHER_STATUS_MEANINGS
from .blueprint import bp
from .common import end_session, session_minutes, session_voucher, start_session
from .forms import BalanceForm


@bp.after_request
def _no_store(response):
    # What these pages show is for one person: never kept by a browser or a shared proxy,
    # never shown again from the history of a shared phone.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _form_page(form: BalanceForm, failure: str | None = None, status: int = 200):
    """The form; `failure` is "wrong", "locked" or "rate_limited" after a refused attempt."""
    voucher, _expired = session_voucher() if request.method == "GET" else (None, False)
    page = render_template(
        "beneficiary/check.html",
        form=form,
        failure=failure,
        signed_in=voucher is not None,
        lock_minutes=current_app.config["PIN_LOCK_MINUTES"],
        max_attempts=current_app.config["PIN_MAX_ATTEMPTS"],
        office=selfservice.help_contacts(),
    )
    return page, status


# Per address, on top of the lockout of each code after five wrong PINs: guessing codes
# from one address stops here, while the ente's office networks may check many families'
# vouchers (voucher.balance_limits). Counters are shared by every worker (voucher.ratelimit).
@bp.route("/saldo", methods=["GET", "POST"])
@limiter.limit(form_limit, methods=["POST"])
def check():
    """The code and PIN form; on success the voucher's id goes into a short session."""
    form = BalanceForm()
    if not form.validate_on_submit():
        return _form_page(form)
    end_session()  # a new attempt never keeps the previous voucher open
    try:
        voucher = selfservice.sign_in(form.code.data, form.pin.data)
    except InvalidCodeOrPin:
        # The view returns normally, so the request boundary commits the failure count that
        # stops PIN guessing. A fresh, empty form: the page is the same whether the code or
        # the PIN was wrong.
        return _form_page(BalanceForm(formdata=None), "wrong")
    except Locked:
        return _form_page(BalanceForm(formdata=None), "locked", 429)
    start_session(voucher)
    return redirect(url_for("beneficiary.voucher"), 303)


@bp.errorhandler(429)
def _too_many_attempts(_error):
    return _form_page(BalanceForm(formdata=None), "rate_limited", 429)


def _signed_in_voucher():
    """The session's voucher, or a redirect to the form (saying why when it expired)."""
    voucher, expired = session_voucher()
    if voucher is None:
        if expired:
            flash(
                _(
                    "Per sicurezza la consultazione si chiude dopo %(minutes)s minuti. "
                    "Scrivi di nuovo il codice e il PIN.",
                    minutes=session_minutes(),
                ),
                "info",
            )
        return None, redirect(url_for("beneficiary.check"))
    return voucher, None


@bp.route("/saldo/buono", endpoint="voucher")
def show_voucher():
    """Balance, status, validity, history and providers of the session's voucher."""
    voucher, redirect_to_form = _signed_in_voucher()
    if voucher is None:
        return redirect_to_form
    summary = selfservice.voucher_summary(voucher)
    return render_template(
        "beneficiary/voucher.html",
        summary=summary,
        voucher=voucher,
        scheme=summary.scheme,
        today=clock.today(),
        status_meanings=VOUCHER_STATUS_MEANINGS,
        session_minutes=session_minutes(),
        office=selfservice.help_contacts(),
    )


@bp.route("/saldo/buono/lettera.pdf")
def letter():
    """The voucher letter again, without the PIN (which is never kept)."""
    voucher, redirect_to_form = _signed_in_voucher()
    if voucher is None:
        return redirect_to_form
    response = make_response(letters_pdf([letters.letter_for(voucher)]))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = 'attachment; filename="lettera-buono.pdf"'
    return response


@bp.route("/saldo/esci", methods=["POST"])
def sign_out():
    """Close the consultation: the session is deleted on the server, so a copy of the
    cookie opens nothing either."""
    end_session()
    flash(_("Hai chiuso la consultazione del buono."), "success")
    return redirect(url_for("beneficiary.check"), 303)
