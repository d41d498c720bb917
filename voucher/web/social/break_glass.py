"""Break-glass: a social worker opens one person or voucher outside their Comuni, giving a
reason, until the end of the day (voucher.services.reach). Asked for on the 404 page of the
record; a page-only act (the API has no such request, but honours an access granted here)."""

from flask import abort, flash, redirect
from flask_babel import gettext as _

from ...extensions import db
from ...models import Beneficiary, Voucher
from ...services import reach
from ..lookups import MAX_ID
from ..reach import BreakGlassForm, out_of_reach_page, record_page
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp

MODELS = {"beneficiario": Beneficiary, "buono": Voucher}


@bp.route(
    "/accesso-straordinario/<any(beneficiario, buono):kind>/<int:object_id>", methods=["POST"]
)
@permission_required("access.break_glass")
def break_glass(kind: str, object_id: int):
    """Grant the access and open the record; a short reason shows the form again."""
    record = db.session.get(MODELS[kind], object_id) if 0 < object_id <= MAX_ID else None
    if record is None:
        abort(404)
    actor = current_actor()
    if reach.sees(actor, record):
        return redirect(record_page(record))
    form = BreakGlassForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            reach.break_glass(actor, record, form.reason.data)
            flash(
                _(
                    "Accesso straordinario concesso fino alla fine della giornata: è registrato "
                    "con il motivo indicato e segnalato all'amministratore."
                ),
                "warning",
            )
            return redirect(record_page(record))
    return out_of_reach_page(record, form, status=422)
