"""The ente's identity, the Comuni it serves, the social-services office families are told
to call, and its privacy settings (the contacts of its privacy notice and its retention
periods)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ...services import ente as ente_service
from ...services import ente_office, privacy
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .ente_office_form import OfficeForm
from .forms import EnteForm


class PrivacyForm(FlaskForm):
    """The contacts the privacy notice names and the retention periods (empty: defaults)."""

    pec = StringField(
        _l("PEC dell'ente"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    dpo_name = StringField(
        _l("Responsabile della protezione dei dati (DPO)"),
        validators=[Optional(), Length(max=200)],
        description=_l("Nome e cognome, o la società incaricata."),
    )
    dpo_email = StringField(
        _l("E-mail del DPO"),
        validators=[Optional(), Length(max=254)],
        render_kw={"inputmode": "email"},
    )
    dpo_pec = StringField(
        _l("PEC del DPO"),
        validators=[Optional(), Length(max=254)],
        render_kw={"inputmode": "email"},
    )
    retention_personal_years = IntegerField(
        _l("Anni di conservazione dei dati personali"),
        validators=[
            Optional(),
            NumberRange(privacy.MIN_PERSONAL_YEARS, privacy.MAX_PERSONAL_YEARS),
        ],
    )
    retention_accounting_years = IntegerField(
        _l("Anni di conservazione delle scritture contabili"),
        validators=[
            Optional(),
            NumberRange(privacy.MIN_ACCOUNTING_YEARS, privacy.MAX_ACCOUNTING_YEARS),
        ],
    )

    def values(self) -> dict:
        return {name: self[name].data for name in privacy.CONTACTS + privacy.YEARS}


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


def _stored_form(current) -> EnteForm:
    """The ente's form as stored."""
    form = EnteForm(formdata=None, obj=current)
    form.comuni.entries, form.comuni.last_index = [], -1
    for comune in current.comuni if current else []:
        form.comuni.append_entry({"istat_code": comune.istat_code})
    return form


def _page(
    form: EnteForm,
    current,
    privacy_form: PrivacyForm | None = None,
    office_form: OfficeForm | None = None,
    status: int = 200,
):
    rows = [(entry, _official(entry.form.istat_code.data)) for entry in form.comuni]
    if privacy_form is None:
        privacy_form = PrivacyForm(formdata=None, obj=current, prefix="privacy")
    settings = privacy.privacy_settings(current)
    privacy_form.retention_personal_years.description = _(
        "Da %(min)s a %(max)s anni dalla fine dell'ultimo buono della persona; "
        "se vuoto, %(years)s anni.",
        min=privacy.MIN_PERSONAL_YEARS,
        max=privacy.MAX_PERSONAL_YEARS,
        years=settings.retention_personal_years_default,
    )
    privacy_form.retention_accounting_years.description = _(
        "Almeno %(min)s anni (art. 2220 del codice civile); se vuoto, %(years)s anni.",
        min=privacy.MIN_ACCOUNTING_YEARS,
        years=settings.retention_accounting_years_default,
    )
    if office_form is None:
        office_form = OfficeForm(formdata=None, obj=current, prefix="office")
    office = ente_office.office_contacts(current)
    page = render_template(
        "admin/ente.html",
        form=form,
        rows=rows,
        current=current,
        privacy_form=privacy_form,
        office_form=office_form,
        office=office,
        office_missing=[str(office_form[name].label.text).lower() for name in office.missing],
    )
    return page, status


@bp.route("/ente", methods=["GET", "POST"])
@permission_required("ente.manage")
def ente():
    current = ente_service.get_ente()
    if request.method == "GET":
        form = _stored_form(current)
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
    return _page(form, current)


@bp.route("/ente/privacy", methods=["POST"])
@permission_required("ente.manage")
def ente_privacy():
    """The privacy settings, saved apart from the ente's identity."""
    privacy_form = PrivacyForm(prefix="privacy")
    if privacy_form.validate_on_submit():
        with showing_refusals(privacy_form):
            privacy.update_privacy_settings(current_actor(), **privacy_form.values())
            flash(_("Impostazioni sulla protezione dei dati salvate."), "success")
            return redirect(url_for("admin.ente", _anchor="privacy"))
    current = ente_service.get_ente()
    return _page(_stored_form(current), current, privacy_form)


@bp.route("/ente/ufficio", methods=["POST"])
@permission_required("ente.manage")
def ente_office_contacts():
    """The office families are told to call, saved apart from the ente's identity."""
    office_form = OfficeForm(prefix="office")
    current = ente_service.get_ente()
    if office_form.validate_on_submit():
        with showing_refusals(office_form):
            ente_office.update_office_contacts(current_actor(), current, **office_form.values())
            flash(_("Contatti dei servizi sociali salvati."), "success")
            return redirect(url_for("admin.ente", _anchor="office"))
    return _page(_stored_form(current), current, office_form=office_form, status=422)
