"""A service's refusal shown on the page: the transaction rolled back, the message flashed,
and each field's messages next to its field, in the reader's language when the catalogue
knows the service's Italian message (voucher.web.wording).

The one way a view shows a domain error it expects:

    with showing_refusals(form):
        provider = providers.create_provider(current_actor(), ...)
        flash(_("Fornitore registrato."), "success")
        return redirect(...)
    return render_template("admin/provider_form.html", form=form)

A refusal the view does not expect goes on to voucher.boundary, which shows an error page.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from flask import flash
from sqlalchemy.exc import IntegrityError

from ..db import domain_error_for
from ..errors import DomainError
from ..extensions import db
from .wording import translated


def show_refusal(error: DomainError, form=None, field_map: dict[str, str] | None = None) -> None:
    """Roll back the refused work (unless the refusal keeps it), then flash the refusal and
    put its per-field messages next to the fields."""
    if error.keeps_work:
        db.session.flush()
    else:
        db.session.rollback()
    apply_domain_error(form, error, field_map)


@dataclass
class Refusal:
    """What `showing_refusals` caught, for a view that shows more than the message."""

    error: DomainError | None = None


@contextmanager
def showing_refusals(form=None, field_map: dict[str, str] | None = None):
    """Run the block; a domain error it raises, or a lost race on a unique value, is shown
    on the page (see show_refusal) and the view goes on after the block, where the yielded
    Refusal says what was refused."""
    refusal = Refusal()
    try:
        yield refusal
    except DomainError as error:
        refusal.error = error
        show_refusal(error, form, field_map)
    except IntegrityError as error:
        refusal.error = domain_error_for(error)
        if refusal.error is None:
            raise
        show_refusal(refusal.error, form, field_map)


def _form_field(form, path: str):
    """The form field a service error key names: "name", "comuni.0.istat_code", ..."""
    field = form
    for part in path.split("."):
        if part.isdigit():
            entries = getattr(field, "entries", None)
            if entries is None or int(part) >= len(entries):
                return None
            field = entries[int(part)]
        else:
            nested = getattr(field, "form", field)  # a FormField wraps its form
            try:
                field = nested[part]
            except (KeyError, TypeError):
                return None
    return None if field is form else field


def apply_domain_error(form, error: DomainError, field_map: dict[str, str] | None = None) -> None:
    """Flash a service's refusal and put its per-field messages next to the fields.

    `field_map` renames service keys to form fields (e.g. "unit_price_cents" -> "unit_price");
    messages for keys no field matches go to the form's own list (render_form_errors).
    """
    flash(translated(error.detail), "danger")
    field_map = field_map or {}
    for key, messages in (error.errors or {}).items():
        prefix, _, rest = key.partition(".")
        name = field_map.get(key) or (
            field_map[prefix] + ("." + rest if rest else "") if prefix in field_map else key
        )
        field = _form_field(form, name) if form is not None else None
        target = field.errors if field is not None else None
        if target is None:
            if form is None:
                continue
            target = form.form_errors
        if isinstance(target, tuple):  # WTForms' untouched fields hold an empty tuple
            target = list(target)
            field.errors = target
        target.extend(translated(m) for m in messages)
