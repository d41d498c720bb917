"""Schemes (misure): list, create, edit while draft, activate, close, and the scheme page."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms.fields.choices import SelectChoice

from ...models import AREAS
from ...models.status import allows
from ...services import catalogue, clock, scheme_changes, scheme_providers, schemes
from ...services.money import format_euro
from ..filters import date_it, localized_name
from ..labels import AREA_LABELS, LEGAL_MODEL_LABELS
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import SCHEME_FIELD_MAP, SchemeForm
from .scheme_change_forms import BudgetForm, SchemeProvidersForm, ValidityForm


def _budget(scheme) -> dict:
    """Budget, committed, redeemed and available, in cents (from the services' queries)."""
    committed = schemes.committed_cents(scheme.id)
    return {
        "budget": scheme.budget_cents,
        "committed": committed,
        "redeemed": schemes.redeemed_cents(scheme.id),
        "available": scheme.budget_cents - committed,
    }


def _prepare(form: SchemeForm) -> None:
    """Choices from the catalogue: funds, and services grouped by area."""
    form.fund_code.choices = [SelectChoice("", _("Scegli un fondo"))] + [
        SelectChoice(f.code, f"{f.code} — {localized_name(f)}") for f in catalogue.list_funds()
    ]
    # Services the ente renders itself (P1, P6) are not bought with vouchers: not offered.
    services = sorted(
        (s for s in catalogue.list_services() if s.voucherable),
        key=lambda s: (AREAS.index(s.area), s.code),
    )
    form.service_codes.choices = [
        SelectChoice(
            s.code,
            f"{s.code} — {localized_name(s)}",
            optgroup=str(AREA_LABELS.get(s.area, s.area)),
        )
        for s in services
    ]


def _form_data(scheme) -> dict:
    """A draft scheme's values as the form's fields hold them."""
    data = {name: getattr(scheme, name) for name in (
        "name", "description", "fund_code", "year", "cup", "unit", "valid_from", "valid_until",
        "eligible_categories", "min_age", "max_age", "max_active_per_beneficiary",
        "presa_in_carico", "legal_model",
    )}  # fmt: skip
    data.update(
        unit_price=scheme.unit_price_cents,
        face_value=scheme.face_value_cents,
        budget=scheme.budget_cents,
        isee_max=scheme.isee_max_cents,
        max_redemption=scheme.max_redemption_cents,
        service_codes=scheme.service_codes,
        copay_bands=[
            {"isee_max": b.isee_max_cents, "coverage_percent": b.coverage_percent}
            for b in scheme.copay_bands
        ],
    )
    return data


def _edit_bands(form: SchemeForm) -> bool:
    """The band editor's own buttons: add a row, or remove one. True when one was pressed."""
    if "add_band" in request.form:
        form.copay_bands.append_entry()
        return True
    index = request.form.get("remove_band", "")
    if index.isdigit():
        if int(index) < len(form.copay_bands.entries):
            del form.copay_bands.entries[int(index)]
        return True
    return False


def _save(form: SchemeForm, scheme=None):
    """Create or update through the service; None (and errors on the form) when refused."""
    with showing_refusals(form, SCHEME_FIELD_MAP):
        if scheme is None:
            return schemes.create_scheme(current_actor(), form.to_data())
        schemes.update_scheme(current_actor(), scheme, form.to_data())
        return scheme
    return None


@bp.route("/misure", endpoint="schemes")
@permission_required("scheme.manage")
def schemes_list():
    rows = [(s, _budget(s)) for s in schemes.list_schemes()]
    return render_template("admin/schemes.html", rows=rows)


@bp.route("/misure/nuova", methods=["GET", "POST"])
@permission_required("scheme.manage")
def scheme_new():
    form = SchemeForm()
    _prepare(form)
    if request.method == "POST" and not _edit_bands(form) and form.validate():
        scheme = _save(form)
        if scheme is not None:
            flash(_("Misura creata in bozza: controllala e attivala."), "success")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    return render_template("admin/scheme_form.html", form=form, scheme=None)


@bp.route("/misure/<int:scheme_id>/modifica", methods=["GET", "POST"])
@permission_required("scheme.manage")
def scheme_edit(scheme_id: int):
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    if not allows("scheme", scheme.status, "edit"):
        flash(_("Solo una misura in bozza può essere modificata."), "warning")
        return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    form = SchemeForm(data=_form_data(scheme)) if request.method == "GET" else SchemeForm()
    _prepare(form)
    submitted = request.method == "POST" and not _edit_bands(form) and form.validate()
    if submitted and _save(form, scheme) is not None:
        flash(_("Misura aggiornata."), "success")
        return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    return render_template("admin/scheme_form.html", form=form, scheme=scheme)


@bp.route("/misure/<int:scheme_id>")
@permission_required("scheme.manage")
def scheme(scheme_id: int):
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    return render_template(
        "admin/scheme.html",
        scheme=scheme,
        budget=_budget(scheme),
        legal_model_labels=LEGAL_MODEL_LABELS,
        changeable=scheme_changes.changeable(scheme),
    )


def _change_status(scheme_id: int, change, message: str):
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    with showing_refusals():
        change(current_actor(), scheme)
        flash(message, "success")
    return redirect(url_for("admin.scheme", scheme_id=scheme_id))


@bp.route("/misure/<int:scheme_id>/attiva", methods=["POST"])
@permission_required("scheme.manage")
def scheme_activate(scheme_id: int):
    return _change_status(
        scheme_id, schemes.activate_scheme, _("Misura attiva: si possono emettere buoni.")
    )


@bp.route("/misure/<int:scheme_id>/chiudi", methods=["POST"])
@permission_required("scheme.manage")
def scheme_close(scheme_id: int):
    return _change_status(
        scheme_id,
        schemes.close_scheme,
        _("Misura chiusa: non si emettono nuovi buoni; quelli emessi restano validi."),
    )


@bp.route("/misure/<int:scheme_id>/presa-in-carico", methods=["POST"])
@permission_required("scheme.manage")
def scheme_presa_in_carico(scheme_id: int):
    """What the scheme declares to SIUSS, changed on an open scheme too."""
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    value = request.form.get("presa_in_carico") == "1"
    with showing_refusals():
        schemes.update_scheme(current_actor(), scheme, {"presa_in_carico": value})
        flash(_("Presa in carico del servizio sociale aggiornata."), "success")
    return redirect(url_for("admin.scheme", scheme_id=scheme_id))


# --- Changes to an active scheme: budget, validity, providers ---------------------------


def _changeable_or_back(scheme):
    """None when the scheme's budget and validity may change; otherwise the way back."""
    if scheme_changes.changeable(scheme):
        return None
    flash(_("Budget e validità si modificano solo su una misura attiva."), "warning")
    return redirect(url_for("admin.scheme", scheme_id=scheme.id))


@bp.route("/misure/<int:scheme_id>/budget", methods=["GET", "POST"])
@permission_required("scheme.manage")
def scheme_budget(scheme_id: int):
    """A top-up of the budget (or a cut down to what is committed), with its reason."""
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    back = _changeable_or_back(scheme)
    if back is not None:
        return back
    form = BudgetForm(data={"budget": scheme.budget_cents} if request.method == "GET" else None)
    if form.validate_on_submit():
        with showing_refusals(form, {"budget_cents": "budget"}):
            old = scheme.budget_cents
            if scheme_changes.change_budget(
                current_actor(), scheme, form.budget.data, form.reason.data
            ):
                new = format_euro(scheme.budget_cents)
                message = _("Budget portato da %(old)s a %(new)s.", old=format_euro(old), new=new)
                flash(message, "success")
            else:
                flash(_("Il budget è già di questo importo: nessuna modifica."), "info")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/scheme_budget.html", scheme=scheme, form=form, budget=_budget(scheme)
    ), status


@bp.route("/misure/<int:scheme_id>/validita", methods=["GET", "POST"])
@permission_required("scheme.manage")
def scheme_validity(scheme_id: int):
    """An extension of the validity, with its reason; optionally of the vouchers too."""
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    back = _changeable_or_back(scheme)
    if back is not None:
        return back
    form = ValidityForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            extended = scheme_changes.extend_validity(
                current_actor(),
                scheme,
                form.valid_until.data,
                form.reason.data,
                extend_vouchers=form.extend_vouchers.data,
            )
            day = date_it(scheme.valid_until)
            flash(_("Validità della misura prorogata al %(day)s.", day=day), "success")
            if extended:
                message = ngettext(
                    "Prorogato anche %(num)s buono: il suo QR code è cambiato, ristampa la "
                    "lettera già consegnata.",
                    "Prorogati anche %(num)s buoni: il loro QR code è cambiato, ristampa le "
                    "lettere già consegnate.",
                    extended,
                )
                flash(message, "warning")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/scheme_validity.html",
        scheme=scheme,
        form=form,
        latest=scheme_changes.latest_end(scheme),
        vouchers=scheme_changes.extendable_vouchers(scheme),
        today=clock.today(),
    ), status


@bp.route("/misure/<int:scheme_id>/fornitori", methods=["GET", "POST"])
@permission_required("scheme.manage")
def scheme_providers_edit(scheme_id: int):
    """The providers the scheme is limited to: none ticked, every accredited provider."""
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    listed = scheme_providers.provider_ids(scheme)
    ticked = {"provider_ids": [str(i) for i in listed]}
    form = SchemeProvidersForm(data=ticked if request.method == "GET" else None)
    candidates = scheme_providers.candidate_providers(scheme)
    form.provider_ids.choices = [SelectChoice(str(p.id), p.name) for p in candidates]
    if form.validate_on_submit():
        with showing_refusals(form):
            if scheme_providers.set_scheme_providers(current_actor(), scheme, form.ids()):
                flash(_("Fornitori della misura aggiornati."), "success")
            else:
                flash(_("Nessuna modifica da salvare."), "info")
            return redirect(url_for("admin.scheme", scheme_id=scheme.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/scheme_providers.html", scheme=scheme, form=form, candidates=candidates
    ), status
