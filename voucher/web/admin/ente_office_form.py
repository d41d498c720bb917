"""The form of the ente's social-services office: the contacts families are given on the
letter and on the balance pages, wherever they are told to call."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from ...services.ente_office import OFFICE_FIELDS


class OfficeForm(FlaskForm):
    """Every contact is optional; the service checks the phone and the e-mail."""

    office_phone = StringField(
        _l("Telefono"),
        validators=[Optional(), Length(max=OFFICE_FIELDS["office_phone"])],
        description=_l("Con il prefisso, ad esempio 055 1234567 o 800 123456."),
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    office_email = StringField(
        _l("E-mail"),
        validators=[Optional(), Length(max=OFFICE_FIELDS["office_email"])],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )
    office_address = StringField(
        _l("Indirizzo dell'ufficio"),
        validators=[Optional(), Length(max=OFFICE_FIELDS["office_address"])],
        description=_l("Su una riga, ad esempio Piazza Vittorio Veneto 1, Sesto Fiorentino."),
    )
    office_hours = StringField(
        _l("Orari di apertura al pubblico e del telefono"),
        validators=[Optional(), Length(max=OFFICE_FIELDS["office_hours"])],
        description=_l("Ad esempio: lunedì-venerdì 9-12, giovedì anche 15-17."),
    )

    def values(self) -> dict:
        return {name: self[name].data for name in OFFICE_FIELDS}
