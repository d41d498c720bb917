"""Forms of the reports pages: the period of a report (read from the query string), the
provider statement's payment and invoices, SIUSS generation and the audit viewer's filters."""

import re
from os import SEEK_END

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import MonthInput, NumberInput

from ...errors import ValidationFailed
from ...periods import MAX_YEAR, MIN_YEAR, Month

_YEAR = re.compile(r"^\d{4}$")


def parse_year(text: str | None) -> int:
    """A year typed as four digits within the supported range; ValueError (Italian) if not."""
    text = (text or "").strip()
    if not _YEAR.match(text):
        raise ValueError(str(_l("Anno non valido: scrivere quattro cifre, ad esempio 2026.")))
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(
            str(_l("Anno fuori intervallo (%(first)s-%(last)s).", first=MIN_YEAR, last=MAX_YEAR))
        )
    return year


def parse_month(text: str | None) -> Month:
    """A month typed as AAAA-MM; ValueError (Italian) if not."""
    try:
        return Month.parse(text or "")
    except ValidationFailed:
        raise ValueError(str(_l("Mese non valido: usare AAAA-MM (es. 2026-03)."))) from None


def _supported_day(form, field):
    """A day within the supported years: the pages count days from it, and 9999-12-31 has
    no next day."""
    if field.data and not MIN_YEAR <= field.data.year <= MAX_YEAR:
        raise ValidationError(
            _l(
                "Data fuori intervallo: indicare un giorno tra il %(first)s e il %(last)s.",
                first=MIN_YEAR,
                last=MAX_YEAR,
            )
        )


def _check(parser):
    def validator(form, field):
        try:
            parser(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None

    return validator


class YearForm(FlaskForm):
    """The year of a report, from the query string."""

    class Meta:
        csrf = False

    year = StringField(
        _l("Anno"),
        validators=[DataRequired(message=_l("Indicare l'anno.")), _check(parse_year)],
        widget=NumberInput(min=MIN_YEAR, max=MAX_YEAR),
        render_kw={"inputmode": "numeric"},
    )

    @property
    def value(self) -> int:
        return parse_year(self.year.data)


class MonthForm(FlaskForm):
    """The month of a statement or of a SIUSS flow, from the query string."""

    class Meta:
        csrf = False

    month = StringField(
        _l("Mese"),
        validators=[DataRequired(message=_l("Indicare il mese.")), _check(parse_month)],
        widget=MonthInput(),
        description=_l("Nel formato AAAA-MM, ad esempio 2026-03."),
        render_kw={"pattern": r"\d{4}-\d{2}", "placeholder": "AAAA-MM"},
    )

    @property
    def value(self) -> Month:
        return parse_month(self.month.data)


class StatementChoiceForm(MonthForm):
    """Which provider's statement, and of which month."""

    provider = SelectField(
        _l("Fornitore"),
        validators=[DataRequired(message=_l("Scegliere un fornitore."))],
        validate_choice=False,  # the page checks the choice: its list is built per request
    )


class PaidForm(FlaskForm):
    """The payment (mandato) of an approved statement."""

    month = HiddenField(validators=[DataRequired(), _check(parse_month)])
    reference = StringField(
        _l("Riferimento del pagamento"),
        validators=[
            DataRequired(message=_l("Indicare il riferimento del pagamento.")),
            Length(max=100, message=_l("Al massimo 100 caratteri.")),
        ],
        description=_l("Ad esempio il numero del mandato di pagamento."),
        render_kw={"autocomplete": "off"},
    )
    paid_on = DateField(
        _l("Data del pagamento"),
        validators=[InputRequired(message=_l("Indicare la data del pagamento."))],
    )


class SiussGenerateForm(FlaskForm):
    """A concluded month whose SIUSS flows to generate (or bring up to date)."""

    month = StringField(
        _l("Mese"),
        validators=[DataRequired(message=_l("Indicare il mese.")), _check(parse_month)],
        widget=MonthInput(),
        description=_l("Un mese concluso, nel formato AAAA-MM."),
        render_kw={"pattern": r"\d{4}-\d{2}", "placeholder": "AAAA-MM"},
    )

    @property
    def value(self) -> Month:
        return parse_month(self.month.data)


class AuditFilterForm(FlaskForm):
    """The audit viewer's filters, read from the query string: codes and ids, no names."""

    class Meta:
        csrf = False

    azione = SelectField(_l("Operazione"), validators=[Optional()], validate_choice=False)
    tipo = SelectField(_l("Tipo di oggetto"), validators=[Optional()], validate_choice=False)
    oggetto = StringField(
        _l("Identificativo dell'oggetto"),
        validators=[Optional(), Length(max=64, message=_l("Al massimo 64 caratteri."))],
        description=_l("Il codice del buono, il numero del fornitore, dell'utente..."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    autore = SelectField(_l("Autore"), validators=[Optional()])
    dal = DateField(_l("Dal"), validators=[Optional(), _supported_day])
    al = DateField(_l("Al"), validators=[Optional(), _supported_day])

    def validate_al(self, field):
        if field.data and self.dal.data and field.data < self.dal.data:
            raise ValidationError(_l("La data finale precede quella iniziale."))


INVOICE_MAX_BYTES = 5 * 1024 * 1024  # a FatturaPA is a few kB; SDI itself refuses over 5 MB


def _invoice_size(form, field):
    """The uploaded invoice is neither empty nor over INVOICE_MAX_BYTES."""
    upload = field.data
    if not upload:
        return
    stream = upload.stream
    size = stream.seek(0, SEEK_END)
    stream.seek(0)
    if size == 0:
        raise StopValidation(_l("Il file caricato è vuoto: scegliere il file della fattura."))
    if size > INVOICE_MAX_BYTES:
        raise StopValidation(
            _l("Il file supera i 5 MB: caricare il solo file XML della fattura o il suo .p7m.")
        )


class InvoiceForm(FlaskForm):
    """A FatturaPA invoice for a month's statement, as the provider sent it through SDI."""

    month = HiddenField(validators=[DataRequired(), _check(parse_month)])
    document = FileField(
        _l("File della fattura"),
        validators=[
            FileRequired(message=_l("Scegliere il file della fattura.")),
            FileAllowed(
                ["xml", "p7m"],
                message=_l(
                    "Caricare il file XML della fattura (.xml) o la sua busta firmata (.p7m)."
                ),
            ),
            _invoice_size,
        ],
        description=_l(
            "La fattura elettronica inviata allo SdI: file XML o firmato .p7m, al massimo 5 MB."
        ),
        render_kw={"accept": ".xml,.p7m,application/xml,text/xml,application/pkcs7-mime"},
    )
    sdi_id = StringField(
        _l("Identificativo SdI (facoltativo)"),
        validators=[Optional()],
        description=_l("Il numero che il Sistema di Interscambio ha dato alla fattura, se noto."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
