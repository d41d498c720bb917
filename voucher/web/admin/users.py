"""Users: list, create, enable or disable, reset a password, change a role, assign a social
worker's Comuni; and the weekly report of break-glass accesses."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ...errors import DomainError
from ...services import providers, reach, users
from ...services.ente import get_ente
from ..forms import MultiCheckboxField
from ..lookups import load_or_404
from ..refusals import show_refusal, showing_refusals
from ..security import current_actor, permission_required
from .blueprint import bp
from .forms import PasswordForm, RoleForm, UserForm


def _provider_choices() -> list[tuple]:
    return [SelectChoice("", _("Nessuno"))] + [
        SelectChoice(str(p.id), p.name) for p in providers.list_providers()
    ]


class TeamForm(FlaskForm):
    comuni = MultiCheckboxField(
        _l("Comuni seguiti"),
        coerce=int,
        validators=[Optional()],
        description=_l(
            "L'assistente vede e gestisce le persone residenti in questi Comuni e i buoni a "
            "loro carico. Senza alcun Comune scelto vede tutti i Comuni dell'ente."
        ),
    )


def _team_form(user, form=None) -> TeamForm:
    if form is None:
        form = TeamForm(prefix="team", data={"comuni": [c.id for c in reach.team_comuni(user)]})
    ente = get_ente()
    form.comuni.choices = [SelectChoice(c.id, c.name) for c in (ente.comuni if ente else [])]
    return form


def _is_self(user) -> bool:
    return user.id == current_actor().user_id


@bp.route("/utenti", endpoint="users")
@permission_required("user.manage")
def users_list():
    return render_template("admin/users.html", users=users.list_users())


@bp.route("/utenti/nuovo", methods=["GET", "POST"])
@permission_required("user.manage")
def user_new():
    form = UserForm()
    form.provider_id.choices = _provider_choices()
    if form.validate_on_submit():
        with showing_refusals(form):
            user = users.create_user(
                current_actor(),
                username=form.username.data,
                password=form.password.data,
                role=form.role.data,
                provider_id=form.provider_id.data,
                full_name=form.full_name.data or None,
                email=form.email.data or None,
            )
            flash(_("Utente %(name)s creato.", name=user.username), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return render_template("admin/user_form.html", form=form)


def _user_page(user, password_form=None, role_form=None, status=200, team_form=None):
    if role_form is None:
        current = {"role": user.role, "provider_id": user.provider_id}
        role_form = RoleForm(prefix="role", data=current)
    role_form.provider_id.choices = _provider_choices()
    return render_template(
        "admin/user.html",
        user=user,
        is_self=_is_self(user),
        password_form=password_form or PasswordForm(prefix="pw"),
        role_form=role_form,
        team=reach.team_comuni(user),
        team_form=_team_form(user, team_form) if user.role == "social_worker" else None,
    ), status


@bp.route("/utenti/<int:user_id>")
@permission_required("user.manage")
def user(user_id: int):
    return _user_page(load_or_404(users.get_user, user_id))


@bp.route("/utenti/<int:user_id>/stato", methods=["POST"])
@permission_required("user.manage")
def user_active(user_id: int):
    user = load_or_404(users.get_user, user_id)
    active = request.form.get("active") == "1"
    with showing_refusals():
        users.set_active(current_actor(), user, active)
        flash(_("Utente riattivato.") if active else _("Utente disattivato."), "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.route("/utenti/<int:user_id>/password", methods=["POST"])
@permission_required("user.manage")
def user_password(user_id: int):
    user = load_or_404(users.get_user, user_id)
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        with showing_refusals(form):
            users.set_password(current_actor(), user, form.password.data)
            flash(
                _("Nuova password impostata: le sessioni aperte dell'utente sono chiuse."),
                "success",
            )
            return redirect(url_for("admin.user", user_id=user.id))
    return _user_page(user, password_form=form, status=422)


@bp.route("/utenti/<int:user_id>/ruolo", methods=["POST"])
@permission_required("user.manage")
def user_role(user_id: int):
    user = load_or_404(users.get_user, user_id)
    form = RoleForm(prefix="role")
    form.provider_id.choices = _provider_choices()
    if form.validate_on_submit():
        try:
            users.set_role(current_actor(), user, form.role.data, form.provider_id.data)
        except DomainError as error:
            if not error.errors:  # a refusal of the whole change, e.g. one's own role
                show_refusal(error)
                return redirect(url_for("admin.user", user_id=user.id))
            show_refusal(error, form)
        else:
            flash(_("Ruolo aggiornato."), "success")
            return redirect(url_for("admin.user", user_id=user.id))
    return _user_page(user, role_form=form, status=422)


@bp.route("/utenti/<int:user_id>/comuni", methods=["POST"])
@permission_required("user.manage")
def user_team(user_id: int):
    """Assign the Comuni a social worker serves (none: every Comune)."""
    user = load_or_404(users.get_user, user_id)
    form = _team_form(user, TeamForm(prefix="team"))
    if form.validate_on_submit():
        with showing_refusals(form):
            team = reach.set_team(current_actor(), user, form.comuni.data or [])
            flash(
                _("Comuni assegnati: %(names)s.", names=", ".join(c.name for c in team))
                if team
                else _("Nessun Comune assegnato: l'utente vede tutti i Comuni dell'ente."),
                "success",
            )
            return redirect(url_for("admin.user", user_id=user.id))
    return _user_page(user, team_form=form, status=422)


@bp.route("/utenti/accessi-straordinari")
@permission_required("access.review")
def users_break_glass():
    """The break-glass accesses of the last days (a week unless told), newest first."""
    days = min(max(request.args.get("giorni", 7, type=int), 1), reach.MAX_REPORT_DAYS)
    return render_template(
        "admin/break_glass.html", grants=reach.break_glass_report(days), days=days
    )
