"""The providers' forms: reading a voucher, recording a service, filtering the history,
cancelling a service recorded today."""

import re
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..forms import EuroField

# A signed QR payload is a few hundred characters; the column holds at most 1000.
MAX_REFERENCE = 2000
# Units with up to two decimals, the decimal mark a comma or a dot: 2 / 1,5 / 0.25.
_QUANTITY = re.compile(r"^(\d{1,8})(?:[.,](\d{1,2}))?$")


def parse_quantity(text: str) -> Decimal:
    """A quantity typed the Italian way ("1,5") or with a dot, exactly, as a Decimal.

    Raises ValueError with an Italian message for anything else (thousands separators
    included: quantities are small)."""
    value = (text or "").replace(" ", "").replace("\u00a0", "")
    match = _QUANTITY.match(value)
    if not match:
        raise ValueError(
            str(_l("Quantità non valida: scrivere ad esempio 1,5 (al massimo due decimali)."))
        )
    quantity = Decimal(f"{match.group(1)}.{match.group(2) or '0'}")
    if quantity <= 0:
        raise ValueError(str(_l("La quantità deve essere maggiore di zero.")))
    return quantity


class QuantityField(StringField):
    """Hours, meals, trips or accesses, typed as "1,5"; `data` is a Decimal (None if empty)."""

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else f"{self.data:f}".replace(".", ",")

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_quantity(valuelist[0])
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from None


class ScanForm(FlaskForm):
    """The voucher, typed, pasted, read by the camera or typed by a barcode scanner (which
    sends the whole QR payload followed by Enter)."""

    voucher = StringField(
        _l("Codice del buono o contenuto del QR code"),
        validators=[
            DataRequired(message=_l("Digitare il codice del buono o leggere il QR code.")),
            Length(max=MAX_REFERENCE, message=_l("Il testo è troppo lungo per essere un buono.")),
        ],
        description=_l(
            "Il codice ha 16 caratteri, ad esempio K7QM-3XRT-9WBC-HN44: maiuscole, minuscole e "
            "trattini non contano, la lettera O vale come lo zero. Con un lettore di codici a "
            "barre basta inquadrare il QR code con il cursore in questa casella."
        ),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "autocorrect": "off",
            "spellcheck": "false",
            "enterkeyhint": "search",
        },
    )


class RecordForm(FlaskForm):
    """A service delivered. The view keeps either `quantity` (unit schemes) or `amount`
    (euro schemes) and sets the services' choices."""

    voucher = HiddenField(validators=[DataRequired(), Length(max=40)])
    # Made when the form is first shown and sent back unchanged: a second send of the same
    # form (double click, reload, back and confirm again) is recognised and records nothing.
    key = HiddenField(validators=[DataRequired(), Regexp(r"^[\x21-\x7e]{1,255}$")])
    service_code = SelectField(
        _l("Servizio"),
        validate_choice=False,  # the service names the refusal in Italian
        validators=[DataRequired(message=_l("Scegliere il servizio svolto."))],
    )
    service_date = DateField(
        _l("Data della prestazione"),
        validators=[InputRequired(message=_l("Indicare la data della prestazione."))],
    )
    quantity = QuantityField(
        _l("Quantità"),
        validators=[InputRequired(message=_l("Indicare la quantità."))],
    )
    amount = EuroField(
        _l("Costo della prestazione (euro)"),
        validators=[InputRequired(message=_l("Indicare il costo della prestazione."))],
        description=_l("Ad esempio 12,50."),
    )
    # Euro schemes only: the hours of assistance, which the FSC report counts.
    hours = QuantityField(
        _l("Ore di assistenza (facoltativo)"),
        validators=[Optional()],
        description=_l("Se il servizio si misura in ore: ad esempio 2,5."),
    )


class HistoryForm(FlaskForm):
    """The history's filters, read from the query string (no personal data in them)."""

    class Meta:
        csrf = False

    dal = DateField(_l("Dal"), validators=[Optional()])
    al = DateField(_l("Al"), validators=[Optional()])
    buono = StringField(
        _l("Codice del buono"),
        validators=[Optional(), Length(max=40, message=_l("Codice troppo lungo."))],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    servizio = SelectField(_l("Servizio"), validators=[Optional()])

    def validate_al(self, field):
        if field.data and self.dal.data and field.data < self.dal.data:
            raise ValidationError(_l("La data finale precede quella iniziale."))


class CancelForm(FlaskForm):
    """A provider's same-day cancellation of its own entry: why, for the ente's records."""

    reason = TextAreaField(
        _l("Motivo dell'annullamento"),
        validators=[
            DataRequired(message=_l("Indicare il motivo dell'annullamento.")),
            Length(max=500, message=_l("Al massimo 500 caratteri.")),
        ],
        description=_l("Ad esempio: prestazione registrata due volte, quantità sbagliata."),
    )
