"""The personal area's form: a person's notification preferences."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired


class PreferencesForm(FlaskForm):
    notify_email = BooleanField(_l("Ricevi i messaggi per e-mail"))
    notify_io = BooleanField(_l("Ricevi i messaggi sull'app IO"))
    notify_language = SelectField(
        _l("Lingua dei messaggi"),
        choices=[SelectChoice("it", "Italiano"), SelectChoice("en", "English")],
        validators=[InputRequired()],
    )
