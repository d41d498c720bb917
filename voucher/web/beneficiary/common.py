"""What the self-service pages share: the short beneficiary session and the words for
statuses and units."""

from datetime import timedelta
from decimal import Decimal

from flask import current_app, session
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from ...models import Voucher
from ...services import clock, selfservice

# Kept apart from a staff sign-in in the same browser: signing out of one leaves the other.
SESSION_KEY = "beneficiary"

# (label, Bootstrap colour, what it means for the family)
STATUS_TEXT = {
    "active": (_l("Attivo"), "success", _l("Il buono si può usare presso i fornitori.")),
    "exhausted": (
        _l("Esaurito"),
        "secondary",
        _l("Il valore del buono è stato speso tutto: non si può più usare."),
    ),
    "expired": (
        _l("Scaduto"),
        "secondary",
        _l("Il periodo di validità è finito: il saldo rimasto non si può più spendere."),
    ),
    "revoked": (
        _l("Revocato"),
        "danger",
        _l(
            "L'ente ha annullato il buono: non si può più usare. Per sapere perché, "
            "rivolgiti ai servizi sociali."
        ),
    ),
    "suspended": (
        _l("Sospeso"),
        "warning",
        _l(
            "Per ora il buono non si può usare. Per sapere perché e quando tornerà attivo, "
            "rivolgiti ai servizi sociali."
        ),
    ),
}

# (one, many) in the reader's language.
UNIT_WORDS = {
    "HOUR": (_l("ora"), _l("ore")),
    "MEAL": (_l("pasto"), _l("pasti")),
    "TRIP": (_l("trasporto"), _l("trasporti")),
    "ACCESS": (_l("accesso"), _l("accessi")),
}


def units_text(units: Decimal | None, unit: str) -> str:
    """A number of units with its word: "24,6 ore", "1 pasto"; empty without units."""
    if units is None or unit not in UNIT_WORDS:
        return ""
    one, many = UNIT_WORDS[unit]
    return f"{format_decimal(Decimal(units).normalize())} {one if abs(units) == 1 else many}"


def session_minutes() -> int:
    return int(current_app.config.get("BENEFICIARY_SESSION_MINUTES", 10))


def start_session(voucher: Voucher) -> None:
    """Remember the voucher, and only its id, for BENEFICIARY_SESSION_MINUTES."""
    until = clock.now() + timedelta(minutes=session_minutes())
    session[SESSION_KEY] = {"voucher_id": voucher.id, "until": until.timestamp()}


def end_session() -> bool:
    """Forget the voucher; True if there was one."""
    return session.pop(SESSION_KEY, None) is not None


def session_voucher() -> tuple[Voucher | None, bool]:
    """The voucher of a live beneficiary session, and whether a session had just expired.
    The cookie is signed by the server, so its content cannot be forged; its age is
    checked here, whatever the cookie's own lifetime."""
    data = session.get(SESSION_KEY)
    if data is None:
        return None, False
    voucher_id = data.get("voucher_id") if isinstance(data, dict) else None
    until = data.get("until") if isinstance(data, dict) else None
    if (
        not isinstance(voucher_id, int)
        or not isinstance(until, int | float)
        or until <= clock.now().timestamp()
    ):
        end_session()
        return None, True
    voucher = selfservice.voucher_by_id(voucher_id)
    if voucher is None:
        end_session()
        return None, True
    return voucher, False
