"""Pages about one person or one voucher: within the social worker's Comuni, or a 404 that
offers break-glass access; and each such page read leaves one audit event (see
voucher.services.reach and voucher.services.read_audit)."""

from flask import abort, make_response, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..models import Beneficiary, Voucher
from ..services import reach, read_audit
from .security import current_actor

# Pages whose read is more than a consultation: (action, purpose) by endpoint.
PAGE_READS = {
    "social.letter": ("voucher.letter_read", read_audit.LETTER),
}
_RECORDED = "voucher.read_recorded"
# The URL segment of each kind of record in the break-glass address.
KIND_SEGMENTS = {"beneficiary": "beneficiario", "voucher": "buono"}


class BreakGlassForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo dell'accesso"),
        validators=[
            DataRequired(message=_l("Indicare il motivo dell'accesso.")),
            Length(
                min=reach.MIN_REASON,
                max=reach.MAX_REASON,
                message=_l("Il motivo deve avere da 10 a 500 caratteri."),
            ),
        ],
        description=_l(
            "Perché ti serve questa scheda, in almeno 10 caratteri (per esempio: "
            "«sostituisco la collega in ferie»). Non scrivere dati personali: basta il motivo."
        ),
    )


def record_page(record: Beneficiary | Voucher):
    """The scheda's own page: the person's, or the voucher's."""
    if isinstance(record, Voucher):
        return url_for("social.voucher", voucher_id=record.id)
    return url_for("social.beneficiary", beneficiary_id=record.id)


def out_of_reach_page(
    record: Beneficiary | Voucher, form: BreakGlassForm | None = None, status: int = 404
):
    """The 404 of a record outside the social worker's Comuni, with the break-glass form.
    It names neither the person nor the Comune."""
    kind = reach.kind_of(record)
    html = render_template(
        "social/out_of_reach.html",
        kind=kind,
        form=form or BreakGlassForm(),
        action=url_for("social.break_glass", kind=KIND_SEGMENTS[kind], object_id=record.id),
        can_break_glass=current_actor().can("access.break_glass"),
    )
    return make_response(html, status)


def guard(record: Beneficiary | Voucher) -> None:
    """Go on only within the signed-in person's reach (else the 404 with break-glass); a
    page shown (GET) records one read, whatever it loads."""
    actor = current_actor()
    if actor is None:
        return
    if not reach.sees(actor, record):
        abort(out_of_reach_page(record))
    if request.method == "GET" and not request.environ.get(_RECORDED):
        action, purpose = PAGE_READS.get(request.endpoint, (None, read_audit.CONSULTATION))
        read_audit.record_read(actor, record, purpose, action=action)
        request.environ[_RECORDED] = True
