"""What a page is about, loaded from its URL: the 404 page when it does not exist, or when the
signed-in provider may not see it (so that its existence is not revealed either). A person or
a voucher is also checked against a social worker's Comuni, and its page read is audited
(voucher.web.reach)."""

from collections.abc import Callable
from typing import Any

from flask import abort

from ..errors import DomainError
from ..extensions import db
from ..models import Beneficiary, Voucher
from .reach import guard
from .security import current_actor

MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger number in a URL names nothing


def load_or_404(load: Callable[..., Any] | type, *args, of_provider: int | None = None):
    """What `load` finds for `args`: a service lookup, or a model class read by primary key.
    The 404 page when nothing is found (a lookup's not-found refusal included), or when
    `of_provider` is given and the thing is not that provider's (an API key in another
    provider's URL)."""
    if any(type(arg) is int and not 0 < arg <= MAX_ID for arg in args):
        abort(404)
    if isinstance(load, type):
        found = db.session.get(load, *args)
    else:
        try:
            found = load(*args)
        except DomainError as error:
            if error.status != 404:
                raise
            abort(404)
    if found is None or (of_provider is not None and found.provider_id != of_provider):
        abort(404)
    if isinstance(found, Beneficiary | Voucher):
        guard(found)
    return found


def reach_or_404(provider_id: int | None) -> None:
    """Go on only if the signed-in person may see this provider's data: a provider sees
    only its own (Actor.sees_provider), and anything else is 404 to it."""
    if not current_actor().sees_provider(provider_id):
        abort(404)
