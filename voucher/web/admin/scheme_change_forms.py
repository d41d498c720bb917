"""The forms that change an active scheme: budget, validity and the providers it is limited
to. They parse what was typed; the rules live in voucher.services.scheme_changes and
scheme_providers."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from ..forms import EuroField, MultiCheckboxField


def _reason_field():
    return TextAreaField(
        _l("Motivo"),
        validators=[DataRequired(_l("Indicare il motivo.")), Length(max=500)],
        description=_l("Ad esempio: «Determina n. 123 del 15/03/2026». Resta nel registro."),
    )


class BudgetForm(FlaskForm):
    budget = EuroField(
        _l("Nuovo budget della misura (€)"),
        validators=[InputRequired(_l("Indicare il nuovo budget."))],
        description=_l(
            "Il totale, non la differenza: per un'integrazione somma l'importo della determina "
            "al budget attuale. Si può ridurre fino a quanto già impegnato dai buoni."
        ),
    )
    reason = _reason_field()


class ValidityForm(FlaskForm):
    valid_until = DateField(
        _l("Nuova fine della validità"),
        validators=[InputRequired(_l("Indicare la nuova data."))],
    )
    reason = _reason_field()
    extend_vouchers = BooleanField(
        _l("Proroga anche i buoni già emessi e ancora validi"),
        description=_l(
            "Il loro QR code viene firmato di nuovo con la nuova scadenza: le lettere già "
            "stampate riportano la scadenza precedente e vanno ristampate."
        ),
    )


class SchemeProvidersForm(FlaskForm):
    provider_ids = MultiCheckboxField(
        _l("Fornitori che accettano i buoni della misura"),
        validate_choice=False,  # the service names any provider it refuses
        description=_l(
            "Nessuna selezione: ogni fornitore accreditato per i servizi della misura. "
            "Con una selezione, solo i fornitori scelti."
        ),
    )

    def ids(self) -> list[int]:
        """The ids ticked; anything else becomes an id no provider has, which the service
        refuses by name."""
        return [int(v) if v.isdigit() and len(v) < 10 else 0 for v in self.provider_ids.data or []]
