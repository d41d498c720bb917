"""The personal area: the sign-in choice (SPID or CIE) and, once signed in, every voucher
of which the person is the beneficiary, with balance, history and providers. Sign-out ends
the session here and, when the identity provider offers it, there too (single logout)."""

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Beneficiary, Voucher
from ...services import Actor, clock, notification_preferences, read_audit, selfservice
from ...services.identifiers import age_on
from ...spid.federations import NAMES, federation
from ...spid.idps import identity_providers
from ...spid.logout import logout_redirect
from ...spid.organization import current_organization
from ...spid.saml import client
from ..labels import VOUCHER_STATUS_MEANINGS
from . import session as citizen_session
from .blueprint import bp
from .forms import PreferencesForm

# Why the area reads a person's vouchers, in the audit trail.
OWN_CONSULTATION = "consultazione da parte dell'interessato"
REPRESENTATIVE_CONSULTATION = "consultazione da parte del rappresentante"


def _providers_by_federation() -> dict:
    found = {}
    for name in NAMES:
        fed = federation(name)
        found[name] = identity_providers(client(fed, current_organization(fed.base_url)))
    return found


@dataclass(frozen=True)
class PersonVouchers:
    """One person's part of the area: the signed-in person, or someone they act for."""

    person: Beneficiary
    own: bool  # the signed-in person's own record
    summaries: list


def _vouchers(person: Beneficiary) -> list[Voucher]:
    return list(
        db.session.execute(
            select(Voucher)
            .where(Voucher.beneficiary_id == person.id)
            .order_by(Voucher.valid_until.desc(), Voucher.id.desc())
        ).scalars()
    )


def _names_them(code: str | None, citizen: citizen_session.Citizen) -> bool:
    return bool(code) and citizen_session.code_digest(code) == citizen.code_digest


def _still_represented(person: Beneficiary, citizen: citizen_session.Citizen) -> bool:
    """The record still names the signed-in person; a parent's role ends at 18."""
    if not _names_them(person.representative_fiscal_code, citizen):
        return False
    if person.representative_role == "genitore":  # a parent's role ends at 18
        return age_on(person.birth_date, clock.today()) < 18
    return True


def _people(citizen: citizen_session.Citizen) -> list[Beneficiary]:
    """The signed-in person's record, then the records that still name them as
    representative: each re-checked at every page against the digest of the code signed
    in with, so that a record changed or pseudonymised since sign-in drops out at once."""
    people = []
    if citizen.beneficiary_id is not None:
        own = db.session.get(Beneficiary, citizen.beneficiary_id)
        if (
            own is not None
            and own.pseudonymised_at is None
            and _names_them(own.fiscal_code, citizen)
        ):
            people.append(own)
    for person_id in citizen.represented_ids:
        person = db.session.get(Beneficiary, person_id)
        if (
            person is not None
            and person.pseudonymised_at is None
            and _still_represented(person, citizen)
        ):
            people.append(person)
    return people


def _actor(citizen: citizen_session.Citizen, person: Beneficiary) -> tuple[Actor, bool]:
    """Who acts, for the audit trail: the person themselves, or their representative (by
    the representative's own record when they have one), never the represented person."""
    own = person.id == citizen.beneficiary_id
    if own:
        return Actor("beneficiary", person.id, "cittadino"), True
    return Actor("beneficiary", citizen.beneficiary_id, "rappresentante"), False


def _allowed(citizen: citizen_session.Citizen, beneficiary_id: int) -> Beneficiary | None:
    return next((p for p in _people(citizen) if p.id == beneficiary_id), None)


@bp.get("/area-personale")
def area():
    """The sign-in choice, or the vouchers of the signed-in person and of those they act
    for, with each one's notification preferences."""
    citizen, expired = citizen_session.current()
    if citizen is None:
        if expired:
            flash(
                _(
                    "Per sicurezza l'area personale si chiude dopo %(minutes)s minuti. "
                    "Accedi di nuovo.",
                    minutes=citizen_session.session_minutes(),
                ),
                "info",
            )
        return render_template("citizen/sign_in.html", providers=_providers_by_federation())
    sections = []
    for person in _people(citizen):
        actor, own = _actor(citizen, person)
        summaries = []
        for voucher in _vouchers(person):
            read_audit.record_read(
                actor, voucher, OWN_CONSULTATION if own else REPRESENTATIVE_CONSULTATION
            )
            summaries.append(selfservice.voucher_summary(voucher))
        sections.append(PersonVouchers(person, own, summaries))
    return render_template(
        "citizen/area.html",
        citizen=citizen,
        sections=sections,
        today=clock.today(),
        status_meanings=VOUCHER_STATUS_MEANINGS,
        session_minutes=citizen_session.session_minutes(),
        preferences={
            s.person.id: PreferencesForm(obj=s.person, prefix=f"p{s.person.id}") for s in sections
        },
    )


@bp.post("/area-personale/preferenze/<int(max=2147483647):beneficiary_id>")
def preferences(beneficiary_id: int):
    """The channels and language of one person's messages, set by them or by whoever acts
    for them; the audit names the fields changed."""
    citizen, _expired = citizen_session.current()
    if citizen is None:
        return redirect(url_for("citizen.area"), 303)
    person = _allowed(citizen, beneficiary_id)
    if person is None:
        abort(404)
    form = PreferencesForm(prefix=f"p{person.id}")
    if not form.validate_on_submit():
        flash(_("Le preferenze non sono state salvate: riprova."), "danger")
        return redirect(url_for("citizen.area"), 303)
    actor, _own = _actor(citizen, person)
    notification_preferences.update(
        actor,
        person,
        email=form.notify_email.data,
        io=form.notify_io.data,
        language=form.notify_language.data,
    )
    flash(_("Preferenze salvate."), "success")
    return redirect(url_for("citizen.area") + f"#preferences-{person.id}", 303)


@bp.post("/area-personale/esci")
def sign_out():
    """End the session here, and at the identity provider when it offers single logout."""
    citizen, _expired = citizen_session.current()
    citizen_session.end()
    if citizen is None:
        return redirect(url_for("citizen.area"), 303)
    fed = federation(citizen.federation)
    target = logout_redirect(
        fed,
        current_organization(fed.base_url),
        citizen.idp,
        citizen.name_id,
        citizen.name_qualifier,
        citizen.session_index,
    )
    if target:
        # A page that moves on by itself rather than a redirect: the area's form may only
        # post to this site (CSP form-action 'self'), and that holds for where its answer
        # redirects too.
        return render_template("citizen/signing_out.html", target=target)
    flash(
        _(
            "Sei uscito dall'area personale. Il tuo gestore dell'identità digitale non "
            "offre l'uscita da tutti i servizi: se il computer non è tuo, chiudi il browser."
        ),
        "success",
    )
    return redirect(url_for("citizen.area"), 303)
