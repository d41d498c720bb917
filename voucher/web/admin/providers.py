"""Providers: registry, payment data, accreditations, suspension, operator accounts and API
keys."""

from datetime import date, timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...errors import DomainError
from ...extensions import db
from ...models import Accreditation, ApiKey, User
from ...services import catalogue, clock, payments, providers, users
from ..filters import date_it, localized_name
from ..lookups import load_or_404
from ..refusals import show_refusal, showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import (
    AccreditationForm,
    ApiKeyForm,
    EndAccreditationForm,
    OperatorForm,
    ProviderEditForm,
    ProviderForm,
    SuspendForm,
)

# The service checks one accreditation at a time and names it as item 0 of a list.
_ACCREDITATION_FIELDS = {
    "accreditations.0.service_code": "service_code",
    "accreditations.0.valid_until": "valid_until",
}


def _accreditation_form() -> AccreditationForm:
    form = AccreditationForm(prefix="acc")
    form.service_code.choices = [SelectChoice("", _("Scegli un servizio"))] + [
        SelectChoice(s.code, f"{s.code} — {localized_name(s)}") for s in catalogue.list_services()
    ]
    if request.method == "GET":
        form.valid_from.data = clock.today()
    return form


def _durc_state(until: date | None, today: date) -> str:
    """How the DURC stands today, as payments.durc_notices judges it: missing, expired,
    expiring (within its notice days) or valid."""
    if until is None:
        return "missing"
    if until < today:
        return "expired"
    if until <= today + timedelta(days=payments.DURC_NOTICE_DAYS):
        return "expiring"
    return "valid"


def _provider_page(provider, accreditation_form=None, api_key_form=None, status=200):
    operators = db.session.execute(
        select(User).where(User.provider_id == provider.id).order_by(User.username)
    ).scalars()
    api_keys = db.session.execute(
        select(ApiKey).where(ApiKey.provider_id == provider.id).order_by(ApiKey.id.desc())
    ).scalars()
    return render_template(
        "admin/provider.html",
        provider=provider,
        today=clock.today(),
        durc=_durc_state(provider.durc_valid_until, clock.today()),
        operators=list(operators),
        api_keys=list(api_keys),
        accreditation_form=accreditation_form or _accreditation_form(),
        end_form=EndAccreditationForm(prefix="end"),
        api_key_form=api_key_form or ApiKeyForm(prefix="key"),
    ), status


@bp.route("/fornitori", endpoint="providers")
@permission_required("provider.manage")
def providers_list():
    today = clock.today()
    rows = [
        (p, [a for a in p.accreditations if a.covers(today)]) for p in providers.list_providers()
    ]
    return render_template("admin/providers.html", rows=rows, notices=payments.durc_notices(today))


@bp.route("/fornitori/nuovo", methods=["GET", "POST"])
@permission_required("provider.manage")
def provider_new():
    form = ProviderForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            actor = current_actor()
            provider = providers.create_provider(
                actor, vat_number=form.vat_number.data, **form.contacts()
            )
            payment_data = form.payment_data()
            if any(payment_data.values()):
                payments.update_payment_data(actor, provider, **payment_data)
            flash(_("Fornitore registrato: aggiungi ora gli accreditamenti."), "success")
            return redirect(url_for("admin.provider", provider_id=provider.id))
    return render_template("admin/provider_form.html", form=form, provider=None)


@bp.route("/fornitori/<int:provider_id>/modifica", methods=["GET", "POST"])
@permission_required("provider.manage")
def provider_edit(provider_id: int):
    """Name, contacts and payment data; each change of payment data is audited with its
    old and new value by the service."""
    provider = load_or_404(providers.get_provider, provider_id)
    form = ProviderEditForm(obj=provider) if request.method == "GET" else ProviderEditForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            actor = current_actor()
            contacts = {k: v for k, v in form.contacts().items() if getattr(provider, k) != v}
            if contacts:
                providers.update_provider(actor, provider, **contacts)
            changed = payments.update_payment_data(actor, provider, **form.payment_data())
            if contacts or changed:
                flash(_("Dati del fornitore aggiornati."), "success")
            else:
                flash(_("Nessuna modifica da salvare."), "info")
            return redirect(url_for("admin.provider", provider_id=provider.id))
    return render_template("admin/provider_form.html", form=form, provider=provider)


@bp.route("/fornitori/<int:provider_id>")
@permission_required("provider.manage")
def provider(provider_id: int):
    return _provider_page(load_or_404(providers.get_provider, provider_id))


@bp.route("/fornitori/<int:provider_id>/accreditamenti", methods=["POST"])
@permission_required("provider.manage")
def provider_accredit(provider_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    form = _accreditation_form()
    if form.validate_on_submit():
        with showing_refusals(form, _ACCREDITATION_FIELDS):
            providers.accredit(
                current_actor(),
                provider,
                form.service_code.data,
                form.valid_from.data,
                form.valid_until.data,
            )
            flash(_("Accreditamento aggiunto."), "success")
            return redirect(url_for("admin.provider", provider_id=provider.id))
    return _provider_page(provider, accreditation_form=form, status=422)


@bp.route(
    "/fornitori/<int:provider_id>/accreditamenti/<int:accreditation_id>/termina",
    methods=["POST"],
)
@permission_required("provider.manage")
def provider_accreditation_end(provider_id: int, accreditation_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    accreditation = load_or_404(Accreditation, accreditation_id, of_provider=provider.id)
    form = EndAccreditationForm(prefix="end")
    if not form.validate_on_submit():
        flash(_("Indicare una data valida per la fine dell'accreditamento."), "danger")
        return redirect(url_for("admin.provider", provider_id=provider.id))
    try:
        providers.end_accreditation(current_actor(), accreditation, form.valid_until.data)
    except DomainError as error:
        # The page after the redirect has no date field to show the messages next to.
        messages = [str(m) for ms in (error.errors or {}).values() for m in ms]
        show_refusal(DomainError(" ".join(messages) or error.detail))
    else:
        flash(
            _("Accreditamento terminato il %(day)s.", day=date_it(form.valid_until.data)), "success"
        )
    return redirect(url_for("admin.provider", provider_id=provider.id))


@bp.route("/fornitori/<int:provider_id>/sospendi", methods=["GET", "POST"])
@permission_required("provider.manage")
def provider_suspend(provider_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    form = SuspendForm()
    if form.validate_on_submit():
        with showing_refusals():
            providers.suspend_provider(current_actor(), provider, form.reason.data.strip())
            flash(_("Fornitore sospeso: non può registrare prestazioni."), "success")
        return redirect(url_for("admin.provider", provider_id=provider.id))
    return render_template("admin/provider_suspend.html", provider=provider, form=form)


@bp.route("/fornitori/<int:provider_id>/riattiva", methods=["GET", "POST"])
@permission_required("provider.manage")
def provider_reinstate(provider_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    if request.method == "POST":
        with showing_refusals():
            providers.reinstate_provider(current_actor(), provider)
            flash(_("Fornitore riattivato."), "success")
        return redirect(url_for("admin.provider", provider_id=provider.id))
    return render_template("admin/provider_reinstate.html", provider=provider)


@bp.route("/fornitori/<int:provider_id>/operatori/nuovo", methods=["GET", "POST"])
@permission_required("provider.manage")
def provider_operator_new(provider_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    form = OperatorForm()
    if form.validate_on_submit():
        with showing_refusals(form):
            users.create_user(
                current_actor(),
                username=form.username.data,
                password=form.password.data,
                role="provider",
                provider_id=provider.id,
                full_name=form.full_name.data or None,
                email=form.email.data or None,
            )
            flash(_("Account dell'operatore creato."), "success")
            return redirect(url_for("admin.provider", provider_id=provider.id))
    return render_template("admin/operator_form.html", provider=provider, form=form)


@bp.route("/fornitori/<int:provider_id>/chiavi", methods=["POST"])
@permission_required("provider.manage")
def provider_api_key_new(provider_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    form = ApiKeyForm(prefix="key")
    if not form.validate_on_submit():
        return _provider_page(provider, api_key_form=form, status=422)
    key = providers.create_api_key(current_actor(), provider, form.label.data or None)
    record = providers.resolve_api_key(key)
    # The key is shown in this response only: it is stored as a digest and never again readable.
    return render_template("admin/api_key_created.html", provider=provider, key=key, record=record)


@bp.route("/fornitori/<int:provider_id>/chiavi/<int:key_id>/revoca", methods=["POST"])
@permission_required("provider.manage")
def provider_api_key_revoke(provider_id: int, key_id: int):
    provider = load_or_404(providers.get_provider, provider_id)
    api_key = load_or_404(ApiKey, key_id, of_provider=provider.id)
    if api_key.revoked_at is None:
        providers.revoke_api_key(current_actor(), api_key)
        flash(_("Chiave %(prefix)s… revocata.", prefix=api_key.prefix), "success")
    return redirect(url_for("admin.provider", provider_id=provider.id))
