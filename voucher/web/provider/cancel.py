"""A provider cancels a service it recorded by mistake, on the same day: a confirmation page
with the reason, then a compensating entry (voucher.services.cancellation). From the next
day the page says whom to call at the ente instead.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...models import LedgerEntry
from ...services import cancellation, clock
from ...services.money import format_euro
from ..lookups import load_or_404, reach_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import CancelForm


def cancellable_ids(entries: list[LedgerEntry]) -> set[int]:
    """Which of these entries the provider may still cancel today (the page offers the
    action only there)."""
    today = clock.today()
    return {
        e.id
        for e in entries
        if e.kind == "redemption"
        and cancellation.recorded_on(e) == today
        and cancellation.cancellation_refusal(e, today) is None
    }


@bp.route("/prestazioni/<int:entry_id>/annulla", methods=["GET", "POST"])
@permission_required("redemption.create")
def cancel(entry_id: int):
    """Cancel one of the provider's own services recorded today, with a reason."""
    entry = load_or_404(LedgerEntry, entry_id)
    reach_or_404(entry.provider_id)
    if entry.kind != "redemption":
        abort(404)
    form = CancelForm()
    if form.validate_on_submit():
        with showing_refusals(form) as refusal:
            reversal = cancellation.cancel_own_redemption(
                current_actor(), entry.id, form.reason.data.strip()
            )
            flash(
                _(
                    "Prestazione n. %(id)s annullata: %(amount)s tornano sul buono.",
                    id=entry.id,
                    amount=format_euro(entry.public_cents),
                ),
                "success",
            )
            return redirect(url_for("provider.receipt", entry_id=reversal.id))
        if refusal.error is not None:  # flashed: the receipt shows it, and the entry
            return redirect(url_for("provider.receipt", entry_id=entry.id))
    refused = cancellation.cancellation_refusal(entry)
    return render_template(
        "provider/cancel.html",
        entry=entry,
        voucher=entry.voucher,
        form=form,
        refusal=refused.detail if refused is not None else None,
    ), (422 if form.errors else 200)
