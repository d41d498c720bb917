"""Reporting periods: calendar years, months (YYYY-MM) and date ranges."""

import re
from dataclasses import dataclass
from datetime import date

from .errors import ValidationFailed

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MIN_YEAR, MAX_YEAR = 2000, 2100


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; `start` is its first day and `end` the first day of the next."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str, field: str = "month") -> "Month":
        """Read YYYY-MM; anything else is a validation error on `field`."""
        match = _MONTH.match((text or "").strip())
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise ValidationFailed(
                errors={field: ["Mese non valido: usare AAAA-MM (es. 2026-03)."]}
            )
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValidationFailed(
                errors={field: [f"Anno fuori intervallo ({MIN_YEAR}-{MAX_YEAR})."]}
            )
        return cls(year, int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> "Month":
        """The month of a day."""
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        """The month's first day."""
        return date(self.year, self.month, 1)

    @property
    def end(self) -> date:
        """The first day of the next month (the month is half-open)."""
        return self.next().start

    def next(self) -> "Month":
        """The month after this one."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> "Month":
        """The month before this one."""
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def label(self) -> str:
        """Italian: «marzo 2026»."""
        return f"{MONTH_NAMES[self.month - 1]} {self.year}"


MONTH_NAMES = (
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
)


def year_bounds(year: int) -> tuple[date, date]:
    """First day of the year and first day of the next (half-open)."""
    return date(year, 1, 1), date(year + 1, 1, 1)


def months_between(first: date, last: date) -> int:
    """How many calendar months [first, last] touches (1 when both are in the same month)."""
    return (last.year - first.year) * 12 + last.month - first.month + 1
