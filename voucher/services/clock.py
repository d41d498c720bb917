"""The current date and time, in Italy: validity windows are Italian calendar days."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    return datetime.now(ROME).date()
