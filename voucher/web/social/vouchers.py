"""Vouchers one at a time: issuing (every check shown before confirming), the voucher's
page with its ledger and audit trail, and the actions on it. A PIN is shown once only, in
the response of the action that created it."""

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ...documents.letter import letters_pdf
from ...errors import DomainError, InvalidCodeOrPin, Locked
from ...extensions import db
from ...models import AuditEvent, LedgerEntry, Voucher
from ...models.status import voucher_allows
from ...services import beneficiaries, clock, form_tokens, letters, redemption, schemes
from ...services import vouchers as service
from ...services.coverage import coverage_period_on
from ...services.issuance import issuance_checks, issue_voucher
from ...services.ledger import ledger_for_voucher
from ...services.money import format_euro, public_share
from ..labels import AUDIT_LABELS
from ..lookups import load_or_404
from ..refusals import show_refusal, showing_refusals
from ..security import current_actor, permission_required
from ..wording import translated
from .blueprint import bp
from .common import pdf_response, render_pin_page
from .competence import competence_choices
from .forms import IssueForm, PinLetterForm, ReasonForm, TokenReasonForm

_STALE = _l(
    "Questa richiesta è già stata inviata, oppure il modulo è stato aperto di nuovo in "
    "un'altra scheda: non è stato fatto nulla di nuovo. Controlla la pagina e, se serve, "
    "riprova dal modulo più recente."
)


def _token(purpose: str, subject: str) -> str:
    """A one-time token for this display of the form (services.form_tokens)."""
    return form_tokens.new_token(current_actor().user_id, purpose, subject)


def _use_token(purpose: str, subject: str, token: str | None) -> bool:
    return form_tokens.use_token(current_actor().user_id, purpose, subject, token)


def _to_voucher(voucher: Voucher):
    return redirect(url_for("social.voucher", voucher_id=voucher.id))


# Issuing


def _family_share_example(scheme, coverage: int | None) -> dict | None:
    """What one unit (or 100 €) of service costs the voucher and the family."""
    if coverage is None:
        return None
    cost = scheme.unit_price_cents or 10_000
    public = public_share(cost, coverage)
    return {"cost": cost, "public": public, "family": cost - public}


@bp.route("/beneficiari/<int:beneficiary_id>/emetti")
@permission_required("voucher.issue")
def issue(beneficiary_id: int):
    """Choose a scheme, then see every check before confirming."""
    person = load_or_404(beneficiaries.get_beneficiary, beneficiary_id)
    active = schemes.list_schemes("active")
    scheme = next((s for s in active if s.id == request.args.get("misura", type=int)), None)
    checks = coverage = form = None
    if scheme is not None:
        checks = issuance_checks(scheme, person)
        coverage = schemes.coverage_for(scheme, person.isee_cents)
        form = IssueForm(scheme_id=scheme.id, token=_token("issue", f"beneficiary:{person.id}"))
        competence_choices(form.comune_istat, person)
    return render_template(
        "social/issue.html",
        person=person,
        schemes=active,
        scheme=scheme,
        checks=checks,
        all_ok=bool(checks) and all(c.ok for c in checks),
        coverage=coverage,
        example=_family_share_example(scheme, coverage) if scheme else None,
        form=form,
    )


@bp.route("/beneficiari/<int:beneficiary_id>/emetti", methods=["POST"])
@permission_required("voucher.issue")
def issue_confirm(beneficiary_id: int):
    person = load_or_404(beneficiaries.get_beneficiary, beneficiary_id)
    form = IssueForm()
    # The token is used in this request's transaction: a refused issue gives it back.
    if not form.validate_on_submit() or not _use_token(
        "issue", f"beneficiary:{person.id}", form.token.data
    ):
        flash(str(_STALE), "warning")
        return redirect(url_for("social.beneficiary", beneficiary_id=person.id))
    scheme_id = int(form.scheme_id.data) if form.scheme_id.data.isdigit() else 0
    scheme = load_or_404(schemes.get_scheme, scheme_id)
    try:
        voucher, pin = issue_voucher(
            current_actor(), scheme, person, comune_istat=form.comune_istat.data or None
        )
    except DomainError as error:
        reason = translated(error.detail)
        show_refusal(DomainError(_("Buono non emesso: %(reason)s", reason=reason)))
        return redirect(url_for("social.issue", beneficiary_id=person.id, misura=scheme.id))
    return render_pin_page(voucher, pin, _("Buono emesso"))


# Finding and showing a voucher


# The list of vouchers and its search: voucher.web.social.caseload.


def _audit_trail(voucher: Voucher) -> list[AuditEvent]:
    return list(
        db.session.execute(
            select(AuditEvent)
            .where(AuditEvent.object_type == "voucher", AuditEvent.object_id == voucher.code)
            .order_by(AuditEvent.seq)
        ).scalars()
    )


def _replacement_of(voucher: Voucher) -> Voucher | None:
    return db.session.execute(
        select(Voucher).where(Voucher.replaces_id == voucher.id)
    ).scalar_one_or_none()


@bp.route("/buoni/<int:voucher_id>")
@permission_required("voucher.manage")
def voucher(voucher_id: int):
    voucher = load_or_404(Voucher, voucher_id)
    ledger = ledger_for_voucher(voucher)
    reversed_by = {e.reverses_id: e for e in ledger if e.reverses_id is not None}
    return render_template(
        "social/voucher.html",
        voucher=voucher,
        scheme=voucher.scheme,
        ledger=ledger,
        reversed_by=reversed_by,
        trail=_audit_trail(voucher),
        replacement=_replacement_of(voucher),
        audit_labels=AUDIT_LABELS,
        coverage_now=coverage_period_on(voucher, clock.today()),
    )


# The letter


@bp.route("/buoni/<int:voucher_id>/lettera.pdf")
@permission_required("voucher.print")
def letter(voucher_id: int):
    """The printable letter, without the PIN (which is not kept)."""
    voucher = load_or_404(Voucher, voucher_id)
    pdf = letters_pdf([letters.letter_for(voucher)])
    return pdf_response(pdf, f"buono-{voucher.code}.pdf")


@bp.route("/buoni/<int:voucher_id>/lettera-con-pin", methods=["POST"])
@permission_required("voucher.print")
def letter_with_pin(voucher_id: int):
    """The letter with the PIN, from the page that shows it: the PIN comes back in the form
    and is checked against its digest, so it is never kept and never wrong on paper. The
    check shares the beneficiaries' lockout, is limited per user and audited."""
    voucher = load_or_404(Voucher, voucher_id)
    form = PinLetterForm()
    pin = (form.pin.data or "").strip() if form.validate_on_submit() else ""
    try:
        letters.check_pin_for_letter(
            current_actor(),
            voucher,
            pin,
            per_hour=current_app.config["STAFF_PIN_CHECKS_PER_HOUR"],
        )
    except InvalidCodeOrPin:
        # The view returns normally: the boundary commits the count and the audit event.
        flash(
            _("Il PIN non corrisponde più a questo buono: stampare la lettera senza PIN."), "danger"
        )
        return _to_voucher(voucher)
    except Locked as error:
        if error.extensions.get("scope") == "user":
            message = _(
                "Troppi PIN errati in poco tempo: la stampa con il PIN è sospesa per un'ora. "
                "Stampa la lettera senza PIN o crea un nuovo PIN."
            )
        else:
            message = _(
                "Troppi PIN errati su questo buono: il codice è bloccato per qualche minuto. "
                "Stampa la lettera senza PIN o crea un nuovo PIN."
            )
        flash(message, "danger")
        return _to_voucher(voucher)
    pdf = letters_pdf([letters.letter_for(voucher, pin)])
    return pdf_response(pdf, f"buono-{voucher.code}.pdf")


# Actions


ACTIONS = {
    "revoca": {
        "title": _l("Revoca del buono"),
        "intro": _l(
            "Il buono non potrà più essere usato. Il saldo non speso torna disponibile nel "
            "budget della misura."
        ),
        "button": _l("Revoca il buono"),
        "done": _l("Buono revocato."),
        "action": "revoke",
    },
    "sospendi": {
        "title": _l("Sospensione del buono"),
        "intro": _l("Finché è sospeso, nessun fornitore può registrare prestazioni sul buono."),
        "button": _l("Sospendi il buono"),
        "done": _l("Buono sospeso."),
        "action": "suspend",
    },
    "riattiva": {
        "title": _l("Riattivazione del buono"),
        "intro": _l("Il buono torna utilizzabile presso i fornitori accreditati."),
        "button": _l("Riattiva il buono"),
        "done": _l("Buono riattivato."),
        "action": "reactivate",
    },
    "sostituisci": {
        "title": _l("Sostituzione di un buono smarrito"),
        "intro": _l(
            "Il buono attuale viene revocato e ne viene emesso uno nuovo, con un nuovo codice e "
            "un nuovo PIN, per il saldo residuo."
        ),
        "button": _l("Revoca e sostituisci"),
        "action": "replace",
    },
    "nuovo-pin": {
        "title": _l("Nuovo PIN"),
        "intro": _l(
            "Il PIN attuale smette di funzionare e ne viene creato uno nuovo, mostrato una sola "
            "volta. Il codice del buono non cambia."
        ),
        "button": _l("Crea un nuovo PIN"),
        "action": "reset_pin",
    },
}
# The actions that create a voucher or a PIN, sent once only (services.form_tokens).
_TOKEN_PURPOSES = {"sostituisci": "replace", "nuovo-pin": "reset_pin"}


def _perform(name: str, voucher: Voucher, reason: str):
    """Run an action; the ones that create a PIN answer with the PIN page."""
    who = current_actor()
    if name == "revoca":
        service.revoke_voucher(who, voucher, reason)
    elif name == "sospendi":
        service.suspend_voucher(who, voucher, reason)
    elif name == "riattiva":
        service.reactivate_voucher(who, voucher, reason)
    elif name == "sostituisci":
        new, pin = service.replace_voucher(who, voucher, reason)
        return render_pin_page(new, pin, _("Buono sostituito"), replaced=voucher)
    elif name == "nuovo-pin":
        pin = service.reset_pin(who, voucher, reason)
        return render_pin_page(voucher, pin, _("Nuovo PIN creato"))
    flash(str(ACTIONS[name]["done"]), "success")
    return _to_voucher(voucher)


_ACTION_RULE = (
    "/buoni/<int:voucher_id>/<any(revoca, sospendi, riattiva, sostituisci, 'nuovo-pin'):name>"
)


@bp.route(_ACTION_RULE, methods=["GET", "POST"])
@permission_required("voucher.manage")
def voucher_action(voucher_id: int, name: str):
    """A confirmation page with the reason; the action runs when it is sent."""
    voucher = load_or_404(Voucher, voucher_id)
    action = ACTIONS[name]
    purpose, subject = _TOKEN_PURPOSES.get(name), f"voucher:{voucher.id}"
    form = TokenReasonForm() if purpose else ReasonForm()
    if form.validate_on_submit():
        if purpose and not _use_token(purpose, subject, form.token.data):
            flash(str(_STALE), "warning")
            return _to_voucher(voucher)
        with showing_refusals():  # a refusal rolls back, the token's use included
            return _perform(name, voucher, form.reason.data.strip())
        return _to_voucher(voucher)
    if purpose:
        form.token.data = _token(purpose, subject)
    return render_template(
        "social/voucher_action.html",
        voucher=voucher,
        action=action,
        name=name,
        form=form,
        entry=None,
        allowed=voucher_allows(voucher.status, action["action"]),
    )


@bp.route("/buoni/<int:voucher_id>/movimenti/<int:entry_id>/storno", methods=["GET", "POST"])
@permission_required("redemption.reverse")
def reverse(voucher_id: int, entry_id: int):
    """Reverse a wrong redemption: a compensating entry gives the balance back."""
    voucher = load_or_404(Voucher, voucher_id)
    entry = load_or_404(LedgerEntry, entry_id)
    if entry.voucher_id != voucher.id or entry.kind != "redemption":
        abort(404)
    form = ReasonForm()
    if form.validate_on_submit():
        with showing_refusals():
            redemption.reverse_redemption(current_actor(), entry.id, form.reason.data.strip())
            flash(
                _(
                    "Prestazione stornata: %(amount)s tornano sul buono.",
                    amount=format_euro(entry.public_cents),
                ),
                "success",
            )
        return _to_voucher(voucher)
    return render_template(
        "social/voucher_action.html",
        voucher=voucher,
        action={
            "title": _l("Storno di una prestazione"),
            "intro": _l(
                "Lo storno registra un movimento opposto: la quota pubblica torna sul saldo del "
                "buono. La prestazione originale resta nel registro."
            ),
            "button": _l("Storna la prestazione"),
        },
        name="storno",
        form=form,
        entry=entry,
        allowed=True,
    )
