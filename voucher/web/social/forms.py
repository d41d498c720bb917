"""The social workers' forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from ..forms import EuroField, MultiCheckboxField
from ..labels import CATEGORY_LABELS, ISEE_TYPE_LABELS, REPRESENTATIVE_ROLE_LABELS


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class SearchForm(FlaskForm):
    q = StringField(
        _l("Codice fiscale, nome o cognome"),
        validators=[DataRequired(), Length(min=2, max=100)],
        render_kw={"autocomplete": "off"},
    )


class BeneficiaryForm(FlaskForm):
    """Registration and editing: the codice fiscale is asked only at registration."""

    fiscal_code = StringField(
        _l("Codice fiscale"),
        validators=[DataRequired(), Length(max=16)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 16},
    )
    first_name = StringField(_l("Nome"), validators=[DataRequired(), Length(max=100)])
    last_name = StringField(_l("Cognome"), validators=[DataRequired(), Length(max=100)])
    comune_istat = SelectField(_l("Comune di residenza"), validators=[DataRequired()])
    comune_altro = StringField(
        _l("Altro Comune di residenza"),
        validators=[Optional(), Length(max=120)],
        description=_l(
            "Solo se la residenza non è tra i Comuni dell'ente: il nome del Comune con la "
            "sigla della provincia, es. «Prato (PO)», oppure il codice ISTAT."
        ),
    )
    citizenship = SelectField(
        _l("Cittadinanza"),
        validators=[DataRequired()],
        default="IT",
        description=_l("Lo Stato di cui la persona è cittadina: il flusso SIUSS la riporta."),
    )
    categories = MultiCheckboxField(
        _l("Categorie"),
        choices=[SelectChoice(code, label) for code, label in CATEGORY_LABELS.items()],
        validators=[Optional()],
    )
    isee = EuroField(_l("ISEE (euro)"), validators=[Optional()])
    isee_valid_until = DateField(_l("ISEE valido fino al"), validators=[Optional()])
    household_id = SelectField(
        _l("Nucleo familiare"), coerce=_optional_int, validators=[Optional()]
    )
    new_household = StringField(
        _l("Oppure crea un nuovo nucleo"),
        validators=[Optional(), Length(max=120)],
        description=_l("Ad esempio «Nucleo Rossi – Via Roma 1»."),
    )
    phone = StringField(_l("Telefono"), validators=[Optional(), Length(max=40)])
    email = StringField(
        _l("E-mail"),
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Indirizzo e-mail non valido.")),
        ],
    )
    address = StringField(
        _l("Indirizzo per la corrispondenza"),
        validators=[Optional(), Length(max=300)],
        description=_l("Via e numero civico: compare sulla lettera del buono."),
    )
    representative_fiscal_code = StringField(
        _l("Codice fiscale del rappresentante"),
        validators=[Optional(), Length(max=16)],
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 16},
    )
    representative_role = SelectField(
        _l("In qualità di"),
        choices=[SelectChoice("", _l("Nessun rappresentante"))]
        + [SelectChoice(code, label) for code, label in REPRESENTATIVE_ROLE_LABELS.items()],
        validators=[Optional()],
    )
    # Shown only when the codice fiscale disagrees with the name (services.fiscal_match).
    confirm_mismatch = BooleanField(_l("Confermo che i dati sono corretti"))


class IseeForm(FlaskForm):
    """A new ISEE record, as the attestazione INPS shows it."""

    isee_type = SelectField(
        _l("Tipo di ISEE"),
        choices=[SelectChoice(code, label) for code, label in ISEE_TYPE_LABELS.items()],
        validators=[DataRequired()],
    )
    value = EuroField(
        _l("Valore ISEE (euro)"),
        validators=[InputRequired(message=_l("Indicare il valore dell'ISEE."))],
    )
    dsu_protocol = StringField(
        _l("Protocollo della DSU"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("Come sull'attestazione: INPS-ISEE-AAAA-NNNNNNNNN-NN."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    dsu_date = DateField(_l("Data di presentazione della DSU"), validators=[DataRequired()])
    valid_until = DateField(_l("ISEE valido fino al"), validators=[DataRequired()])


class IssueForm(FlaskForm):
    scheme_id = HiddenField(validators=[DataRequired()])
    token = HiddenField(validators=[DataRequired()])
    # One of the ente's Comuni: the residence by default; chosen for a person living elsewhere.
    comune_istat = SelectField(
        _l("Comune di competenza (chi paga il buono)"),
        validate_choice=False,
        description=_l(
            "Il Comune la cui quota paga il buono nel rendiconto FSC e nel SIUSS. Resta fisso "
            "anche se il beneficiario cambia residenza."
        ),
    )


class TransferForm(FlaskForm):
    """Move a voucher to another of the ente's Comuni from a date."""

    comune_istat = SelectField(
        _l("Nuovo Comune di competenza"),
        validators=[DataRequired(message=_l("Scegliere il Comune."))],
        validate_choice=False,
    )
    from_date = DateField(
        _l("Dal giorno (prestazioni da questa data)"),
        validators=[InputRequired(message=_l("Indicare la data."))],
    )
    reason = TextAreaField(_l("Motivo"), validators=[Optional(), Length(max=500)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo"),
        validators=[DataRequired(message=_l("Indicare il motivo.")), Length(max=500)],
    )


class TokenReasonForm(ReasonForm):
    """An action that shows a new PIN: sent once only."""

    token = HiddenField(validators=[DataRequired()])


class PinLetterForm(FlaskForm):
    """The letter with the PIN, from the page that shows the PIN (the PIN is checked, under
    the voucher's lockout and a limit per user: services.letters.check_pin_for_letter)."""

    pin = HiddenField(validators=[DataRequired(), Length(min=4, max=12)])


class VoucherLookupForm(FlaskForm):
    code = StringField(
        _l("Codice del buono"),
        validators=[DataRequired(), Length(max=40)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )


class BatchUploadForm(FlaskForm):
    # Checked by the view against the active schemes, with an Italian message.
    scheme_id = SelectField(
        _l("Misura"),
        coerce=_optional_int,
        validate_choice=False,
        validators=[DataRequired(message=_l("Scegliere una misura attiva."))],
    )
    file = FileField(
        _l("File CSV dei codici fiscali"),
        validators=[FileRequired(message=_l("Scegliere il file da caricare."))],
        description=_l(
            "Una riga per beneficiario già registrato: colonna «codice_fiscale» e, se serve, "
            "«note». Separatore punto e virgola o virgola."
        ),
    )


class ImportUploadForm(FlaskForm):
    file = FileField(
        _l("File CSV delle persone"),
        validators=[FileRequired(message=_l("Scegliere il file da caricare."))],
        description=_l(
            "Una riga per persona, con l'intestazione del modello: codice_fiscale, nome, "
            "cognome, comune_istat (o comune), categorie, telefono, email, indirizzo, "
            "cittadinanza. Separatore punto e virgola o virgola."
        ),
    )


class ImportConfirmForm(FlaskForm):
    """The confirmation of an import; rows whose codice fiscale disagrees with the name are
    registered only with the tick."""

    include_warnings = BooleanField(_l("Ho verificato le righe con avviso: registra anche quelle"))
