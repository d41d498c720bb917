"""Bulk import of beneficiaries: upload a CSV of people, read the dry run row by row,
confirm or discard; then go on to bulk issuance for the people just registered.

An import is its uploader's own file: only they see its rows (with the names they typed),
confirm or discard it; anyone else gets 404. The fiscal codes of the people registered are
handed out by POST (a download button), never in a URL.
"""

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from ...services import beneficiary_import as service
from ...services import beneficiary_import_files as files
from ...services.beneficiary_import_checks import REASONS
from ..labels import CATEGORY_LABELS
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .common import no_store
from .forms import ImportConfirmForm, ImportUploadForm

ROWS_PER_PAGE = 200


def _import(import_id: int):
    return load_or_404(service.get_import, current_actor(), import_id)


def _to_import(beneficiary_import):
    return redirect(url_for("social.beneficiary_import", import_id=beneficiary_import.id))


def _category_labels() -> dict[str, str]:
    """The categories' Italian labels, which the file may use instead of the codes (the file
    is Italian whatever the language of the page)."""
    with force_locale("it"):
        return {code: str(label) for code, label in CATEGORY_LABELS.items()}


def _csv(data: bytes, filename: str):
    response = make_response(data)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/importazioni", methods=["GET", "POST"])
@permission_required("beneficiary.manage")
def beneficiary_imports():
    """The upload form and the social worker's own imports."""
    form = ImportUploadForm()
    status = 200
    if form.validate_on_submit():
        with showing_refusals(form):
            beneficiary_import = service.create_import(
                current_actor(), form.file.data.read(), category_labels=_category_labels()
            )
            return _to_import(beneficiary_import)
    if form.errors:
        status = 422
    return render_template(
        "social/imports.html",
        form=form,
        imports=service.list_imports(current_actor()),
        max_rows=files.MAX_ROWS,
    ), status


@bp.route("/importazioni/modello.csv")
@permission_required("beneficiary.manage")
def beneficiary_import_template():
    return _csv(files.template_csv(), "modello-importazione-beneficiari.csv")


def _import_page(beneficiary_import, confirm_form, status: int = 200):
    page = max(1, request.args.get("pagina", 1, type=int))
    rows = service.import_rows(
        beneficiary_import, offset=(page - 1) * ROWS_PER_PAGE, limit=ROWS_PER_PAGE
    )
    draft = beneficiary_import.status == "draft"
    response = make_response(
        render_template(
            "social/import.html",
            beneficiary_import=beneficiary_import,
            draft=draft,
            rows=rows,
            page=page,
            pages=max(1, -(-beneficiary_import.total // ROWS_PER_PAGE)),
            warned=service.warned_rows(beneficiary_import) if draft else [],
            reasons=service.refused_by_reason(beneficiary_import),
            reason_labels=REASONS,
            confirm_form=confirm_form,
        ),
        status,
    )
    # The draft shows the names and codes typed in the file: never kept by a cache.
    return no_store(response) if draft else response


@bp.route("/importazioni/<int:import_id>")
@permission_required("beneficiary.manage")
def beneficiary_import(import_id: int):
    """The dry run of a draft, or the outcome of a confirmed import."""
    return _import_page(_import(import_id), ImportConfirmForm())


@bp.route("/importazioni/<int:import_id>/conferma", methods=["POST"])
@permission_required("beneficiary.manage")
def beneficiary_import_confirm(import_id: int):
    beneficiary_import = _import(import_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return _import_page(beneficiary_import, form, 422)
    with showing_refusals(form):
        done = service.confirm_import(
            current_actor(), beneficiary_import, include_warnings=form.include_warnings.data
        )
        flash(
            _("Importazione confermata: %(num)s persone registrate.", num=done.registered),
            "success",
        )
    return _to_import(beneficiary_import)


@bp.route("/importazioni/<int:import_id>/annulla", methods=["POST"])
@permission_required("beneficiary.manage")
def beneficiary_import_discard(import_id: int):
    beneficiary_import = _import(import_id)
    with showing_refusals():
        service.discard_import(current_actor(), beneficiary_import)
        flash(_("Importazione annullata: nessuna persona è stata registrata."), "success")
        return redirect(url_for("social.beneficiary_imports"))
    return _to_import(beneficiary_import)


@bp.route("/importazioni/<int:import_id>/codici.csv", methods=["POST"])
@permission_required("beneficiary.manage")
def beneficiary_import_codes(import_id: int):
    """The fiscal codes of the people registered, as bulk issuance reads them: by POST, so
    that no URL, history or log holds the list."""
    beneficiary_import = _import(import_id)
    data = files.registered_codes_csv(current_actor(), beneficiary_import)
    return no_store(_csv(data, f"importazione-{beneficiary_import.id}-codici-fiscali.csv"))
