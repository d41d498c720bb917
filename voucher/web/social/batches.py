"""Bulk issuance: upload a CSV, read the dry run, confirm, watch the progress, download the
letters (with the PINs) and the codes for mailing. The work runs in the background
(voucher.jobs): no request waits for a batch."""

from flask import (
    abort,
    after_this_request,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ... import jobs
from ...errors import NotFound
from ...models.status import BatchStatus, allows
from ...services import batch_files as files
from ...services import batches as service
from ...services.batches import REASONS
from ...services.schemes import list_schemes
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .common import no_store, pdf_response
from .forms import BatchUploadForm

ROWS_PER_PAGE = 200
_REFRESH_SECONDS = 3


def _batch(batch_id: int):
    return load_or_404(service.get_batch, batch_id)


def _wake_after_commit() -> None:
    """Wake the batch worker once the view's work is committed (the request boundary
    commits when the view returns): woken earlier, it would not see the batch queued."""

    @after_this_request
    def _wake(response):
        jobs.wake()
        return response


def _to_batch(batch):
    return redirect(url_for("social.voucher_batch", batch_id=batch.id))


@bp.route("/lotti", methods=["GET", "POST"])
@permission_required("voucher.issue")
def voucher_batches():
    """The upload form and the batches so far."""
    form = BatchUploadForm()
    active = list_schemes("active")
    form.scheme_id.choices = [SelectChoice("", _("Scegli la misura"))] + [
        SelectChoice(str(s.id), s.name) for s in active
    ]
    if form.validate_on_submit():
        scheme = next((s for s in active if s.id == form.scheme_id.data), None)
        if scheme is None:
            form.scheme_id.errors = [_("Scegliere una misura attiva.")]
        else:
            with showing_refusals(form):
                batch = service.create_batch(current_actor(), scheme, form.file.data.read())
                return _to_batch(batch)
    return render_template("social/batches.html", form=form, batches=service.list_batches())


@bp.route("/lotti/modello.csv")
@permission_required("voucher.issue")
def voucher_batch_template():
    response = make_response(files.template_csv())
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="modello-lotto.csv"'
    return response


@bp.route("/lotti/<int:batch_id>")
@permission_required("voucher.issue")
def voucher_batch(batch_id: int):
    """The dry run of a draft, the progress of a running batch, the outcome of a done one."""
    batch = _batch(batch_id)
    working = batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING)
    if working:
        jobs.wake()  # resumes a batch whose worker died, once its lease runs out
    page = max(1, request.args.get("pagina", 1, type=int))
    refused_only = batch.status != BatchStatus.DRAFT
    count = service.count_rows(batch, refused_only=refused_only)
    rows = service.batch_rows(
        batch,
        refused_only=refused_only,
        offset=(page - 1) * ROWS_PER_PAGE,
        limit=ROWS_PER_PAGE,
    )
    auto = working and request.args.get("auto") != "0"
    return render_template(
        "social/batch.html",
        batch=batch,
        scheme=batch.scheme,
        rows=rows,
        page=page,
        pages=max(1, -(-count // ROWS_PER_PAGE)),
        row_count=count,
        reasons=service.refused_by_reason(batch),
        reason_labels=REASONS,
        effect=service.budget_effect(batch),
        has_letters=batch.status == "done" and files.has_letters(batch),
        letters_keep_until=files.letters_keep_until(
            batch, current_app.config["BATCH_LETTERS_KEEP_DAYS"]
        ),
        refresh=_REFRESH_SECONDS if auto else None,
        working=working,
    )


@bp.route("/lotti/<int:batch_id>/avanzamento.json")
@permission_required("voucher.issue")
def voucher_batch_progress(batch_id: int):
    """The progress, for a page that polls it."""
    batch = _batch(batch_id)
    if batch.status in (BatchStatus.QUEUED, BatchStatus.RUNNING):
        jobs.wake()
    return jsonify(
        status=batch.status,
        total=batch.total,
        planned=batch.planned,
        processed=batch.processed,
        issued=batch.issued,
        refused=batch.refused,
        percent=batch.percent,
    )


@bp.route("/lotti/<int:batch_id>/conferma", methods=["POST"])
@permission_required("voucher.issue")
def voucher_batch_confirm(batch_id: int):
    batch = _batch(batch_id)
    with showing_refusals():
        service.confirm_batch(current_actor(), batch)
        _wake_after_commit()
        flash(_("Lotto confermato: i buoni vengono emessi in background."), "success")
    return _to_batch(batch)


@bp.route("/lotti/<int:batch_id>/annulla", methods=["POST"])
@permission_required("voucher.issue")
def voucher_batch_discard(batch_id: int):
    batch = _batch(batch_id)
    with showing_refusals():
        service.discard_batch(current_actor(), batch)
        flash(_("Lotto annullato: nessun buono è stato emesso."), "success")
        return redirect(url_for("social.voucher_batches"))
    return _to_batch(batch)


@bp.route("/lotti/<int:batch_id>/riprendi", methods=["POST"])
@permission_required("voucher.issue")
def voucher_batch_requeue(batch_id: int):
    batch = _batch(batch_id)
    with showing_refusals():
        service.requeue_batch(current_actor(), batch)
        _wake_after_commit()
        flash(_("Lotto rimesso in coda: riprende dalla prima riga non elaborata."), "success")
    return _to_batch(batch)


@bp.route("/lotti/<int:batch_id>/lettere.pdf", methods=["GET", "POST"])
@permission_required("voucher.issue")
def voucher_batch_letters(batch_id: int):
    """The batch's letters with the PINs: staff only, never cached, every download audited,
    and handed out once (the page's button posts; a plain link works the same way)."""
    batch = _batch(batch_id)
    pdf = files.download_letters(current_actor(), batch)
    return pdf_response(pdf, f"lotto-{batch.id}-lettere.pdf")


@bp.route("/lotti/<int:batch_id>/elimina-lettere", methods=["POST"])
@permission_required("voucher.issue")
def voucher_batch_delete_letters(batch_id: int):
    batch = _batch(batch_id)
    try:
        files.delete_letters(current_actor(), batch)
    except NotFound:
        abort(404)
    flash(_("PDF delle lettere eliminato: i PIN non sono più recuperabili."), "success")
    return _to_batch(batch)


@bp.route("/lotti/<int:batch_id>/codici.csv")
@permission_required("voucher.issue")
def voucher_batch_codes(batch_id: int):
    """The codes for mailing (never the PINs)."""
    batch = _batch(batch_id)
    if not allows("batch", batch.status, "download"):
        abort(404)
    data = files.codes_csv(current_actor(), batch)
    response = make_response(data)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="lotto-{batch.id}-codici.csv"'
    return no_store(response)
