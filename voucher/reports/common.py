"""What every report carries besides its figures: who produced it and when, and whether its
period is still running."""

from ..errors import ValidationFailed
from ..periods import Month
from ..services import clock
from ..services.ente import get_ente

# On the page and in the files' headers of a report whose period has not ended yet.
UNFINISHED_NOTE = "Il periodo non è concluso: i dati possono ancora cambiare."


def report_meta() -> dict:
    """The ente's name and fiscal code, and the generation timestamp, for report headers."""
    ente = get_ente()
    return {
        "ente_name": ente.name if ente else "",
        "ente_fiscal_code": ente.fiscal_code if ente else "",
        "generated_at": clock.now().astimezone(clock.ROME),
    }


def period_unfinished(period) -> bool:
    """Whether a report's period is not over yet: a year (int) not before this one, a month
    (Month or «AAAA-MM») not before this one; a report's data dict is read for its `month`,
    else its `year`. Such figures still change as services are recorded and reversed."""
    if isinstance(period, dict):
        period = period.get("month") or period.get("year")
    today = clock.today()
    if isinstance(period, int):
        return period >= today.year
    if isinstance(period, str):
        try:
            period = Month.parse(period)
        except ValidationFailed:
            return False
    if isinstance(period, Month):
        return period >= Month.of(today)
    return False
