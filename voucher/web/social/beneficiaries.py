"""Beneficiaries: search (by POST: a codice fiscale never goes in a URL), registration,
editing, and each person's page with their vouchers."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...errors import DuplicateBeneficiary, ValidationFailed
from ...extensions import db
from ...models import Household, Voucher
from ...services import beneficiaries as service
from ...services import caseload, fiscal_match, reach, read_audit
from ...services.citizenship import countries, country
from ...services.ente import find_official_comune, get_ente, official_comune
from ...services.identifiers import parse_fiscal_code
from ...services.isee import list_isee_records
from ...services.schemes import list_schemes
from ..filters import localized_name
from ..lookups import load_or_404
from ..refusals import showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import BeneficiaryForm, IseeForm

# Service keys that the form names differently ("comune": a Comune typed by name or code).
FIELD_MAP = {"isee_cents": "isee", "comune": "comune_altro"}


def _fill_choices(form: BeneficiaryForm) -> None:
    ente = get_ente()
    comuni = sorted(ente.comuni, key=lambda c: c.name) if ente else []
    form.comune_istat.choices = (
        [SelectChoice("", _("Scegli il Comune"))]
        + [SelectChoice(c.istat_code, c.name) for c in comuni]
        + [SelectChoice(OTHER_COMUNE, _("Altro Comune italiano (indicarlo sotto)"))]
    )
    form.citizenship.choices = [
        SelectChoice(c.iso_alpha2, localized_name(c)) for c in countries(str(get_locale() or "it"))
    ]
    households = db.session.execute(select(Household).order_by(Household.label)).scalars()
    form.household_id.choices = [SelectChoice("", _("Nessuno"))] + [
        SelectChoice(str(h.id), h.label) for h in households
    ]


def _derived(fiscal_code: str | None):
    """Birth date and sex read from the codice fiscale, or None when it is not valid."""
    try:
        return parse_fiscal_code(fiscal_code or "")
    except ValidationFailed:
        return None


def _household_id(form: BeneficiaryForm) -> int | None:
    label = (form.new_household.data or "").strip()
    if label:
        return service.create_household(current_actor(), label).id
    return form.household_id.data


OTHER_COMUNE = "altro"


def _residence(form: BeneficiaryForm) -> str:
    """The ISTAT code of the residence: one of the ente's Comuni, or any Italian Comune
    named in the "other" field."""
    if form.comune_istat.data != OTHER_COMUNE:
        return form.comune_istat.data
    if not (form.comune_altro.data or "").strip():
        raise ValidationFailed(errors={"comune_altro": [_("Indicare il Comune di residenza.")]})
    return find_official_comune(form.comune_altro.data).istat_code


def _residence_fields(person) -> dict:
    """The form's residence fields for a person: the select, or "other" with the name."""
    if person.comune.ente_id is not None:
        return {"comune_istat": person.comune.istat_code}
    official = official_comune(person.comune.istat_code)
    province = f" ({official.province})" if official else ""
    return {"comune_istat": OTHER_COMUNE, "comune_altro": f"{person.comune.name}{province}"}


def _details(form: BeneficiaryForm) -> dict:
    return dict(
        first_name=form.first_name.data.strip(),
        last_name=form.last_name.data.strip(),
        comune_istat=_residence(form),
        citizenship=form.citizenship.data,
        categories=list(form.categories.data or []),
        isee_cents=form.isee.data,
        isee_valid_until=form.isee_valid_until.data,
        phone=(form.phone.data or "").strip() or None,
        email=(form.email.data or "").strip() or None,
        address=(form.address.data or "").strip() or None,
        representative_fiscal_code=(form.representative_fiscal_code.data or "").strip() or None,
        representative_role=form.representative_role.data or None,
    )


# The list and its search: voucher.web.social.caseload.


@bp.route("/beneficiari/nuovo", methods=["GET", "POST"])
@permission_required("beneficiary.manage")
def beneficiary_new():
    form = BeneficiaryForm()
    _fill_choices(form)
    derived = existing = elsewhere = None
    mismatches, status = [], 200
    if request.method == "POST":
        derived = _derived(form.fiscal_code.data)
        checking = request.form.get("action") == "check"
        if checking:
            if derived is None:
                form.fiscal_code.errors = [_("Codice fiscale non valido.")]
        elif form.validate_on_submit():
            with showing_refusals(form, FIELD_MAP) as refused:
                person = service.register_beneficiary(
                    current_actor(),
                    fiscal_code=form.fiscal_code.data,
                    household_id=_household_id(form),
                    **_details(form),
                )
                # After the insert: a duplicate, even a rival's, is told before a mismatch.
                fiscal_match.require_confirmed(
                    fiscal_match.person_mismatches(person), form.confirm_mismatch.data
                )
                flash(_("Beneficiario registrato."), "success")
                return redirect(url_for("social.beneficiary", beneficiary_id=person.id))
            # A duplicate, even one registered a moment ago by a colleague: show who it is.
            if isinstance(refused.error, DuplicateBeneficiary):
                existing = service.find_by_fiscal_code(derived.code if derived else "")
                existing, elsewhere = _within_reach(existing)
            mismatches, status = _mismatch_refused(form, refused.error, status)
    return render_template(
        "social/beneficiary_form.html",
        form=form,
        person=None,
        derived=derived,
        existing=existing,
        elsewhere=elsewhere,
        mismatches=mismatches,
    ), status


def _mismatch_refused(form: BeneficiaryForm, error, status: int) -> tuple[list[str], int]:
    """The mismatches to confirm, and 422, when the refusal is an unconfirmed mismatch: the
    warning lists them once, and the error sits on the checkbox that confirms them."""
    if not isinstance(error, fiscal_match.FiscalCodeMismatch):
        return [], status
    for field in (getattr(form, "fiscal_code", None), form):
        errors = getattr(field, "errors" if field is not form else "form_errors", None)
        if isinstance(errors, list):
            errors[:] = [e for e in errors if e not in error.mismatches]
    form.confirm_mismatch.errors = [
        _("Spuntare la casella per confermare i dati così come sono, oppure correggerli.")
    ]
    return error.mismatches, 422


def _within_reach(person) -> tuple:
    """(the person, None) when the social worker sees them, recorded as a read; (None,
    their id) when they live outside the social worker's Comuni."""
    if person is None:
        return None, None
    actor = current_actor()
    if not reach.sees_beneficiary(actor, person):
        return None, person.id
    read_audit.record_read(actor, person, read_audit.DUPLICATE_CHECK)
    return person, None


@bp.route("/beneficiari/<int:beneficiary_id>")
@permission_required("beneficiary.manage")
def beneficiary(beneficiary_id: int):
    person = load_or_404(service.get_beneficiary, beneficiary_id)
    vouchers = db.session.execute(
        select(Voucher).where(Voucher.beneficiary_id == person.id).order_by(Voucher.id.desc())
    ).scalars()
    return render_template(
        "social/beneficiary.html",
        person=person,
        # A voucher charged to a Comune outside the social worker's is not listed.
        vouchers=reach.keep_vouchers(current_actor(), list(vouchers)),
        schemes=list_schemes("active"),
        citizenship=country(person.citizenship),
        isee_records=list_isee_records(person),
        isee_form=IseeForm(),
        timeline=caseload.timeline(current_actor(), person),
    )


@bp.route("/beneficiari/<int:beneficiary_id>/modifica", methods=["GET", "POST"])
@permission_required("beneficiary.manage")
def beneficiary_edit(beneficiary_id: int):
    person = load_or_404(service.get_beneficiary, beneficiary_id)
    if request.method == "POST":
        form = BeneficiaryForm()
    else:
        form = BeneficiaryForm(obj=person, **_residence_fields(person))
        form.isee.data = person.isee_cents
    del form.fiscal_code
    _fill_choices(form)
    mismatches, status = [], 200
    if form.validate_on_submit():
        with showing_refusals(form, FIELD_MAP) as refused:
            before = set(fiscal_match.person_mismatches(person))
            service.update_beneficiary(
                current_actor(), person, household_id=_household_id(form), **_details(form)
            )
            # Only a new disagreement asks again: one confirmed at registration stays so.
            new = [m for m in fiscal_match.person_mismatches(person) if m not in before]
            fiscal_match.require_confirmed(new, form.confirm_mismatch.data)
            flash(_("Dati del beneficiario aggiornati."), "success")
            return redirect(url_for("social.beneficiary", beneficiary_id=person.id))
        mismatches, status = _mismatch_refused(form, refused.error, status)
    return render_template(
        "social/beneficiary_form.html",
        form=form,
        person=person,
        derived=None,
        existing=None,
        mismatches=mismatches,
    ), status
