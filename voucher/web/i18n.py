"""Language: Italian first; English when the person chooses it."""

from flask import request, session

SUPPORTED = ("it", "en")


def select_locale() -> str:
    chosen = session.get("lang") or request.cookies.get("lang")
    return chosen if chosen in SUPPORTED else "it"
