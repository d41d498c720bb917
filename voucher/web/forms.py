"""Flask-WTF forms and fields shared by several pages."""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, PasswordField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from ..services.money import format_euro

# 1.234,56 / 1234,56 / 1234 / 1.234 / 12.50: dots group thousands, the comma marks cents.
_GROUPED = re.compile(r"^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d{1,2}))?$")
_DOT_DECIMAL = re.compile(r"^(\d+)\.(\d{1,2})$")


def parse_euro(text: str) -> int:
    """Parse an amount typed the Italian way ("1.234,56") into integer cents, exactly.

    Raises ValueError (with an Italian message) for anything else; never uses floats.
    """
    value = (text or "").replace("€", "").replace("\u00a0", "").replace(" ", "").strip()
    if not value:
        raise ValueError(str(_l("Indicare un importo.")))
    if value.startswith("-"):
        raise ValueError(str(_l("L'importo non può essere negativo.")))
    match = _GROUPED.match(value)
    if match:
        euros, cents = match.group(1).replace(".", ""), match.group(2) or "0"
    else:
        # "12.50": a dot followed by one or two digits can only be a decimal point.
        match = _DOT_DECIMAL.match(value)
        if not match:
            raise ValueError(str(_l("Importo non valido: scrivere ad esempio 1.234,56.")))
        euros, cents = match.group(1), match.group(2)
    if len(euros) > 12:
        raise ValueError(str(_l("Importo troppo grande.")))
    return int(euros) * 100 + int(cents.ljust(2, "0"))


class EuroField(Field):
    """An amount in euro typed as "1.234,56"; `data` is integer cents (or None when empty)."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format_euro(self.data).removesuffix(" €")

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_euro(valuelist[0])
        except ValueError as error:
            self.data = None
            raise ValueError(str(error)) from None


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes; choices may be grouped ({"Area A": [...]})."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
