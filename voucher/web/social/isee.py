"""ISEE records on the social workers' pages: a person's records and a new one, and the
renewals due (the people whose newest ISEE of a type ends this month or next)."""

from datetime import timedelta

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ...periods import Month
from ...services import beneficiaries, clock, isee, reach
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import IseeForm

# Service keys that the form names differently.
FIELD_MAP = {"type": "isee_type", "value_cents": "value"}


@bp.route("/beneficiari/<int:beneficiary_id>/isee", methods=["GET", "POST"])
@permission_required("beneficiary.manage")
def beneficiary_isee(beneficiary_id: int):
    """The person's ISEE records and the form for a new one (also on the person's page)."""
    person = load_or_404(beneficiaries.get_beneficiary, beneficiary_id)
    form = IseeForm()
    if form.validate_on_submit():
        with showing_refusals(form, FIELD_MAP):
            record = isee.add_isee_record(
                current_actor(),
                person,
                type=form.isee_type.data,
                value_cents=form.value.data,
                dsu_protocol=form.dsu_protocol.data,
                dsu_date=form.dsu_date.data,
                valid_until=form.valid_until.data,
            )
            flash(_("ISEE registrato."), "success")
            changed = len(isee.coverage_changes(record))
            if changed:
                flash(
                    ngettext(
                        "La copertura di %(num)d buono cambia: vedi la pagina del buono.",
                        "La copertura di %(num)d buoni cambia: vedi le pagine dei buoni.",
                        changed,
                    ),
                    "info",
                )
            return redirect(url_for("social.beneficiary", beneficiary_id=person.id))
    return render_template(
        "social/isee.html",
        person=person,
        isee_records=isee.list_isee_records(person),
        isee_form=form,
    )


@bp.route("/isee-in-scadenza")
@permission_required("beneficiary.manage")
def isee_expiring():
    """The renewals to ask for: newest records ending this month or next."""
    today = clock.today()
    first = Month.of(today).start
    last = Month.of(today).next().end - timedelta(days=1)
    records = isee.expiring_records(first, last)
    people = reach.keep_beneficiaries(current_actor(), [r.beneficiary for r in records])
    seen = {p.id for p in people}
    return render_template(
        "social/isee_expiring.html",
        records=[r for r in records if r.beneficiary_id in seen],
        first=first,
        last=last,
        today=today,
    )
