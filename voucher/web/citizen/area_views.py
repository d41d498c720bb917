"""The personal area: the sign-in choice (SPID or CIE) and, once signed in, every voucher
of which the person is the beneficiary, with balance, history and providers. Sign-out ends
the session here and, when the identity provider offers it, there too (single logout)."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ...extensions import db
from ...models import Beneficiary, Voucher
from ...services import Actor, clock, read_audit, selfservice
from ...spid.federations import NAMES, federation
from ...spid.idps import identity_providers
from ...spid.logout import logout_redirect
from ...spid.organization import current_organization
from ...spid.saml import client
from ..labels import VOUCHER_STATUS_MEANINGS
from . import session as citizen_session
from .blueprint import bp

# Why the area reads a person's vouchers, in the audit trail.
OWN_CONSULTATION = "consultazione da parte dell'interessato"


def _providers_by_federation() -> dict:
    found = {}
    for name in NAMES:
        fed = federation(name)
        found[name] = identity_providers(client(fed, current_organization(fed.base_url)))
    return found


def _vouchers_of(beneficiary_id: int | None) -> tuple[Beneficiary | None, list[Voucher]]:
    if beneficiary_id is None:
        return None, []
    person = db.session.get(Beneficiary, beneficiary_id)
    if person is None:
        return None, []
    vouchers = db.session.execute(
        select(Voucher)
        .where(Voucher.beneficiary_id == person.id)
        .order_by(Voucher.valid_until.desc(), Voucher.id.desc())
    ).scalars()
    return person, list(vouchers)


@bp.get("/area-personale")
def area():
    """The sign-in choice, or the signed-in person's vouchers."""
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
    person, vouchers = _vouchers_of(citizen.beneficiary_id)
    actor = Actor("beneficiary", person.id if person else None, "cittadino")
    summaries = []
    for voucher in vouchers:
        read_audit.record_read(actor, voucher, OWN_CONSULTATION)
        summaries.append(selfservice.voucher_summary(voucher))
    return render_template(
        "citizen/area.html",
        citizen=citizen,
        summaries=summaries,
        today=clock.today(),
        status_meanings=VOUCHER_STATUS_MEANINGS,
        session_minutes=citizen_session.session_minutes(),
    )


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
        return redirect(target, 303)
    flash(
        _(
            "Sei uscito dall'area personale. Il tuo gestore dell'identità digitale non "
            "offre l'uscita da tutti i servizi: se il computer non è tuo, chiudi il browser."
        ),
        "success",
    )
    return redirect(url_for("citizen.area"), 303)
