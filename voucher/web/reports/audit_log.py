"""The audit-log viewer: every recorded change of state and read of personal data, newest
first, filtered by operation, object, author, dates and reads only; and, on request, the check
of the whole hash chain."""

import json
from datetime import datetime, time, timedelta

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField
from wtforms.fields.choices import SelectChoice

from ...extensions import db
from ...models import ApiKey, Provider, User
from ...services import clock
from ...services.audit_log import EventFilters, event_facets, list_events
from ...services.audit_verify import verify_chain
from ...services.read_audit import READ_ACTIONS
from ..labels import ACTOR_TYPE_LABELS, ACTOR_TYPES, CHAIN_REASONS, ROLE_LABELS
from ..security import permission_required
from .blueprint import bp
from .forms import AuditFilterForm

PER_PAGE = 50
MAX_PAGE = 10**6  # keeps the offset within the database's integers
FILTERS = ("azione", "tipo", "oggetto", "autore", "dal", "al", "consultazioni")


class _Filters(AuditFilterForm):
    """The filters, with the one that keeps only reads of personal data."""

    consultazioni = BooleanField(
        _l("Solo consultazioni di dati personali"),
        description=_l(
            "Letture di schede, ricerche, stampe di lettere e accessi straordinari, "
            "con chi le ha fatte e perché."
        ),
    )


def _actor_choices() -> list[SelectChoice]:
    """Authors by id (no names travel in the URL): users, API keys and system actors."""
    choices = [SelectChoice("", _("Tutti"))]
    choices += [SelectChoice(key, str(label)) for key, label in ACTOR_TYPES.items()]
    users = db.session.execute(select(User).order_by(User.username)).scalars()
    choices += [
        SelectChoice(f"user:{u.id}", f"{u.username} ({ROLE_LABELS.get(u.role, u.role)})")
        for u in users
    ]
    keys = db.session.execute(
        select(ApiKey.id, ApiKey.prefix, Provider.name)
        .join(Provider, Provider.id == ApiKey.provider_id)
        .order_by(Provider.name, ApiKey.id)
    )
    choices += [
        SelectChoice(f"api_key:{key_id}", f"api-key:{prefix} ({name})")
        for key_id, prefix, name in keys
    ]
    return choices


def _form() -> tuple[AuditFilterForm, EventFilters, bool]:
    """The filters from the query string; a filter with an error is not applied."""
    form = _Filters(formdata=request.args)
    facets = event_facets()
    form.azione.choices = [SelectChoice("", _("Tutte"))] + [
        SelectChoice(a, a) for a in facets["actions"]
    ]
    form.tipo.choices = [SelectChoice("", _("Tutti"))] + [
        SelectChoice(t, t) for t in facets["object_types"]
    ]
    form.autore.choices = _actor_choices()
    valid = form.validate()
    actor_type, actor_id = None, None
    if form.autore.data and not form.autore.errors:
        actor_type, _sep, ident = form.autore.data.partition(":")
        actor_id = int(ident) if ident.isdigit() else None

    def local(day, days=0):
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=days), time.min, tzinfo=clock.ROME)

    filters = EventFilters(
        action=form.azione.data or None,
        actions=READ_ACTIONS if form.consultazioni.data else (),
        object_type=form.tipo.data or None,
        object_id=None if form.oggetto.errors else (form.oggetto.data or "").strip() or None,
        actor_type=actor_type,
        actor_id=actor_id,
        since=None if form.dal.errors else local(form.dal.data),
        until=None if form.al.errors else local(form.al.data, days=1),
    )
    return form, filters, valid


def _args() -> dict:
    return {k: v for k, v in request.args.items() if k in FILTERS and v}


def _page(chain=None):
    form, filters, valid = _form()
    page = min(max(1, request.args.get("pagina", 1, type=int)), MAX_PAGE)
    events, total = list_events(filters, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:  # a page past the end shows the last one
        page = pages
        events, total = list_events(filters, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    return render_template(
        "reports/audit.html",
        form=form,
        events=events,
        count=total,
        page=page,
        pages=pages,
        args=_args(),
        chain=chain,
        chain_reasons=CHAIN_REASONS,
        actor_type_labels=ACTOR_TYPE_LABELS,
        data_items=_data_items,
    ), (200 if valid else 400)


def _data_items(data) -> list[tuple[str, str]]:
    """An event's data as (key, value) pairs; nested values as compact JSON."""
    if not isinstance(data, dict):
        return [("", json.dumps(data, ensure_ascii=False))]
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in data.items()
    ]


@bp.route("/registro")
@permission_required("audit.read")
def audit_log():
    """The audit trail, newest first, with filters and pages."""
    return _page()


@bp.route("/registro/verifica", methods=["POST"])
@permission_required("audit.read")
def audit_verify():
    """Recompute the whole hash chain and show the outcome (it reads every event)."""
    return _page(chain=verify_chain())
