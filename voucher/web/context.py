"""What every template may use: the ente, the signed-in actor, the navigation, the labels of
the domain's codes, the status enums, and the filters of voucher.web.filters."""

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from ..models.status import (
    BatchStatus,
    LedgerKind,
    ProviderStatus,
    SchemeStatus,
    VoucherStatus,
    allows,
    voucher_allows,
)
from ..services.ente import get_ente
from . import filters, labels
from .navigation import nav_items
from .security import current_actor

SERVICE_NAME = _l("Buoni servizio sociali")

# The same for every page and every request.
_STATIC = {
    "service_name": SERVICE_NAME,
    "category_labels": labels.CATEGORY_LABELS,
    "representative_roles": labels.REPRESENTATIVE_ROLE_LABELS,
    "unit_labels": labels.UNIT_LABELS,
    "unit_words": labels.UNIT_WORDS,
    "area_labels": labels.AREA_LABELS,
    "role_labels": labels.ROLE_LABELS,
    "sex_labels": labels.SEX_LABELS,
    "isee_type_labels": labels.ISEE_TYPE_LABELS,
    "notification_kind_labels": labels.NOTIFICATION_KIND_LABELS,
    "notification_channel_labels": labels.NOTIFICATION_CHANNEL_LABELS,
    "notification_status_labels": labels.NOTIFICATION_STATUS_LABELS,
    # A status read from the database turns into its enum, which knows label and badge:
    # {% set status = VoucherStatus(voucher.status) %}{{ status.label }}
    "VoucherStatus": VoucherStatus,
    "SchemeStatus": SchemeStatus,
    "ProviderStatus": ProviderStatus,
    "BatchStatus": BatchStatus,
    "LedgerKind": LedgerKind,
    # What may be done to a thing in its status: the same table the services obey.
    "allows": allows,
    "voucher_allows": voucher_allows,
}


def current_ente():
    """The ente (None until it is set up, or while the database cannot be read: the error
    pages must still render; a page drawn so is not kept, the request boundary answers 503)."""
    try:
        return get_ente()
    except SQLAlchemyError:
        return None


def template_context() -> dict:
    """What every template may use: ente, actor, nav, role label, locale, service name,
    the labels of the domain's codes and the status enums."""
    actor = current_actor()
    return {
        "ente": current_ente(),
        "actor": actor,
        "nav": nav_items(),
        "role_label": labels.ROLE_LABELS.get(actor.role, "") if actor else "",
        "current_locale": str(get_locale() or "it"),
        **_STATIC,
    }


def init_app(app: Flask) -> None:
    """Give every template the context, the filters and the globals."""
    app.context_processor(template_context)
    for name, function in filters.FILTERS.items():
        app.add_template_filter(function, name)
    for name, function in filters.GLOBALS.items():
        app.add_template_global(function, name)
