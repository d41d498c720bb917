"""The ente's identity and the Comuni it serves."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...services import ente as ente_service
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import EnteForm


def _official(istat_code: str | None):
    return ente_service.official_comune(istat_code or "")


def _codes(form: EnteForm) -> list[str]:
    return [(entry.form.istat_code.data or "").strip() for entry in form.comuni]


def _comuni_payload(form: EnteForm) -> list[dict]:
    """The Comuni as the service wants them; name and Belfiore come from the ISTAT list
    (an unknown code is passed on as it is, and the service says what is wrong)."""
    rows = []
    for code in _codes(form):
        official = _official(code)
        rows.append(
            {
                "istat_code": code,
                "belfiore_code": official.belfiore_code if official else "",
                "name": official.name if official else "",
            }
        )
    return rows


def _add_comune(form: EnteForm) -> None:
    """Add the typed ISTAT code to the list on the page (saved with the rest)."""
    code = (form.new_istat.data or "").strip()
    if not code:
        form.new_istat.errors = [_("Indicare il codice ISTAT del Comune da aggiungere.")]
    elif _official(code) is None:
        form.new_istat.errors = [
            _("Il codice ISTAT %(code)s non è nell'elenco ufficiale dei Comuni.", code=code)
        ]
    elif code in _codes(form):
        form.new_istat.errors = [_("Il Comune è già nell'elenco.")]
    else:
        form.comuni.append_entry({"istat_code": code})
        form.new_istat.data = ""
        form.new_istat.raw_data = []


def _remove_comune(form: EnteForm, index: str) -> None:
    if index.isdigit() and int(index) < len(form.comuni.entries):
        del form.comuni.entries[int(index)]


def _save(form: EnteForm) -> bool:
    """Save through the service; False (and the refusal on the form) when refused."""
    with showing_refusals(form):
        ente_service.update_ente(
            current_actor(),
            name=form.name.data.strip(),
            fiscal_code=form.fiscal_code.data.strip(),
            belfiore_code=(form.belfiore_code.data or "").strip() or None,
            address=(form.address.data or "").strip() or None,
            siuss_code=(form.siuss_code.data or "").strip() or None,
            comuni=_comuni_payload(form),
        )
        return True
    return False


@bp.route("/ente", methods=["GET", "POST"])
@permission_required("ente.manage")
def ente():
    current = ente_service.get_ente()
    if request.method == "GET":
        form = EnteForm(obj=current)
        form.comuni.entries, form.comuni.last_index = [], -1
        for comune in current.comuni if current else []:
            form.comuni.append_entry({"istat_code": comune.istat_code})
    else:
        form = EnteForm()
        if "add_comune" in request.form:
            _add_comune(form)
        elif "remove_comune" in request.form:
            _remove_comune(form, request.form["remove_comune"])
        elif form.validate_on_submit():
            if form.new_istat.data:
                _add_comune(form)  # a code typed but not added yet is part of what is saved
            if not form.new_istat.errors and _save(form):
                flash(_("Dati dell'ente salvati."), "success")
                return redirect(url_for("admin.ente"))
    rows = [(entry, _official(entry.form.istat_code.data)) for entry in form.comuni]
    return render_template("admin/ente.html", form=form, rows=rows, current=current)
