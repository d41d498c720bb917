"""The role × endpoint matrix, generated from the permission table: every route whose view
carries `_requires` (set by voucher.api.security.requires and
voucher.web.security.permission_required), called by every role with ids that do not exist.

A role without the permission must be refused with 403; a role with it must get past the
check (anything but 403) and never meet a server error.
"""

import re
from dataclasses import dataclass

from werkzeug.routing.converters import AnyConverter, NumberConverter

from voucher.models.user import ROLES as EVERY_ROLE
from voucher.permissions import PERMISSIONS

ROLES = EVERY_ROLE  # the ragioneria (finance) included
MISSING_ID = 999999
IGNORED_METHODS = {"HEAD", "OPTIONS"}
_ARGUMENT = re.compile(r"<(?:[^:<>]+:)?(\w+)>")


@dataclass(frozen=True)
class Call:
    endpoint: str
    method: str
    url: str
    permission: str

    def allowed(self, role: str) -> bool:
        return role in PERMISSIONS[self.permission]

    def __str__(self) -> str:
        return f"{self.method} {self.url} ({self.endpoint}, {self.permission})"


def _values(rule) -> list[dict]:
    """Every combination of argument values: a missing id for numbers, each choice of an
    `any(...)`, and a missing id as text for the rest (a voucher code, a month)."""
    combinations = [{}]
    for name, converter in sorted(rule._converters.items()):
        if isinstance(converter, AnyConverter):
            choices = sorted(converter.items)
        elif isinstance(converter, NumberConverter):
            choices = [MISSING_ID]
        else:
            choices = [str(MISSING_ID)]
        combinations = [{**done, name: choice} for done in combinations for choice in choices]
    return combinations


def protected_calls(app, *, api: bool) -> list[Call]:
    """One call per protected route, method and argument choice, under /api/ or not."""
    calls = []
    for rule in app.url_map.iter_rules():
        permission = getattr(app.view_functions[rule.endpoint], "_requires", None)
        if permission is None or rule.rule.startswith("/api/") is not api:
            continue
        for values in _values(rule):
            url = _ARGUMENT.sub(lambda m, v=values: str(v[m.group(1)]), rule.rule)
            for method in sorted(rule.methods - IGNORED_METHODS):
                calls.append(Call(rule.endpoint, method, url, permission))
    return sorted(calls, key=lambda c: (c.url, c.method))


def permissions_in_use(app) -> set[str]:
    """Every permission some view requires, on pages or on the API."""
    return {
        permission
        for view in app.view_functions.values()
        if (permission := getattr(view, "_requires", None)) is not None
    }
