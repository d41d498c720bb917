"""What every report carries besides its figures: who produced it and when."""

from ..services import clock
from ..services.ente import get_ente


def report_meta() -> dict:
    """The ente's name and fiscal code, and the generation timestamp, for report headers."""
    ente = get_ente()
    return {
        "ente_name": ente.name if ente else "",
        "ente_fiscal_code": ente.fiscal_code if ente else "",
        "generated_at": clock.now().astimezone(clock.ROME),
    }
