"""The Comune of competence on the social workers' pages: chosen at issue, moved by a
transfer from a date (see voucher.services.competence)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ...models import Beneficiary, Voucher
from ...models.status import voucher_allows
from ...services import clock, competence, reach
from ...services.ente import get_ente
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import TransferForm


def _ente_comuni() -> list:
    ente = get_ente()
    return list(ente.comuni) if ente else []


def competence_choices(field, person: Beneficiary) -> None:
    """The ente's Comuni (a social worker's own), the person's residence chosen when it is
    one of them; otherwise
    nothing chosen, so that the social worker picks the Comune in charge."""
    comuni = _ente_comuni()
    actor = current_actor()
    if actor.team is not None and reach.grant_in_use(actor, person) is None:
        # A social worker charges vouchers to the Comuni they serve (see reach.may_charge).
        comuni = [c for c in comuni if c.id in actor.team]
    resident = any(c.id == person.comune_id for c in comuni)
    field.choices = ([] if resident else [SelectChoice("", _("Scegli il Comune"))]) + [
        SelectChoice(c.istat_code, c.name) for c in comuni
    ]
    if resident and not field.data:
        field.data = person.comune.istat_code


@bp.route("/buoni/<int:voucher_id>/trasferisci", methods=["GET", "POST"])
@permission_required("voucher.manage")
def transfer(voucher_id: int):
    """Move the voucher to another of the ente's Comuni from a date: the services delivered
    from that date count for the new Comune."""
    voucher = load_or_404(Voucher, voucher_id)
    form = TransferForm()
    form.comune_istat.choices = [SelectChoice("", _("Scegli il Comune"))] + [
        SelectChoice(c.istat_code, c.name) for c in _ente_comuni() if c.id != voucher.comune_id
    ]
    if form.validate_on_submit():
        with showing_refusals(form):
            competence.transfer(
                current_actor(),
                voucher,
                form.comune_istat.data,
                form.from_date.data,
                (form.reason.data or "").strip() or None,
            )
            flash(
                _(
                    "Buono trasferito: dal %(day)s le prestazioni contano per %(comune)s.",
                    day=form.from_date.data.strftime("%d/%m/%Y"),
                    comune=voucher.comune.name,
                ),
                "success",
            )
            return redirect(url_for("social.voucher", voucher_id=voucher.id))
    elif not form.is_submitted():
        form.from_date.data = max(clock.today().replace(day=1), voucher.valid_from)
    return render_template(
        "social/transfer.html",
        voucher=voucher,
        form=form,
        allowed=voucher_allows(voucher.status, "transfer"),
    )
