"""The one form of the self-service pages: the voucher code and the PIN."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

# A code is 16 characters in groups of four; the text of the letter's QR code, pasted from a
# phone's camera app, is a few hundred.
MAX_CODE = 2000
MAX_PIN = 64


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class BalanceForm(FlaskForm):
    code = StringField(
        _l("Codice del buono"),
        validators=[
            InputRequired(_l("Scrivi il codice del buono.")),
            Length(max=MAX_CODE, message=_l("Il codice è troppo lungo: controllalo.")),
        ],
        filters=[_strip],
        description=_l(
            "È nella lettera del buono, nel riquadro in alto accanto al QR code: 16 lettere e "
            "numeri in quattro gruppi, per esempio K7QM-3XRT-9WBC-HN44. Puoi scriverlo anche "
            "senza trattini, in maiuscolo o minuscolo."
        ),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
    )
    pin = PasswordField(
        _l("PIN"),
        validators=[
            InputRequired(_l("Scrivi il PIN.")),
            Length(max=MAX_PIN, message=_l("Il PIN è troppo lungo: controllalo.")),
        ],
        filters=[_strip],
        description=_l(
            "Le 6 cifre stampate nella lettera, nel riquadro «Il tuo PIN: solo per te», o "
            "consegnate a parte dai servizi sociali. Il PIN serve solo a te: non darlo a "
            "nessuno."
        ),
        render_kw={"autocomplete": "off", "inputmode": "numeric"},
    )
