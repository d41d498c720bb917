"""Language: Italian first; English when the person chooses it."""

from flask import has_request_context, request, session

SUPPORTED = ("it", "en")
LANGUAGE_NAMES = {"it": "Italiano", "en": "English"}
COOKIE = "lang"


def select_locale() -> str:
    """The chosen language (session, then a long-lived cookie that survives sign-out)."""
    if not has_request_context():  # CLI commands and jobs: messages in Italian
        return "it"
    chosen = session.get("lang") or request.cookies.get(COOKIE)
    return chosen if chosen in SUPPORTED else "it"
