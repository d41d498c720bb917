"""The current date and time, in Italy: validity windows are Italian calendar days."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def now() -> datetime:
    """The current moment, in UTC."""
    return datetime.now(UTC)


def today() -> date:
    """Today's date in Italy."""
    return datetime.now(ROME).date()
