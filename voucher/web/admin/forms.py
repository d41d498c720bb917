"""The ente admin's forms. They parse what was typed; the rules live in the services."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from ...models import ROLES, UNITS
from ..forms import EuroField, MultiCheckboxField
from ..labels import CATEGORY_LABELS, LEGAL_MODEL_LABELS, ROLE_LABELS, UNIT_LABELS


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


# --- Ente -----------------------------------------------------------------------------


class ComuneRowForm(Form):
    """One Comune served by the ente, by its ISTAT code (name and Belfiore come from ISTAT)."""

    istat_code = HiddenField(_l("Codice ISTAT"))


class EnteForm(FlaskForm):
    name = StringField(_l("Denominazione dell'ente"), validators=[DataRequired(), Length(max=200)])
    fiscal_code = StringField(
        _l("Codice fiscale dell'ente"),
        validators=[DataRequired(), Length(max=11)],
        description=_l("11 cifre, con cifra di controllo."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    belfiore_code = StringField(
        _l("Codice Belfiore del Comune sede legale"),
        validators=[Optional(), Length(max=4)],
        description=_l(
            "Codice catastale di 4 caratteri, ad esempio D612: per un Comune il proprio, per "
            "un Ambito quello del Comune capofila. Il flusso SIUSS lo richiede."
        ),
    )
    address = StringField(_l("Indirizzo"), validators=[Optional(), Length(max=300)])
    siuss_code = StringField(
        _l("Codice ente SIUSS"),
        validators=[Optional(), Length(max=16)],
        description=_l(
            "Il codice che l'INPS ha assegnato all'ente per il SIUSS: senza, i flussi SIUSS "
            "non si generano."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    comuni = FieldList(FormField(ComuneRowForm))
    new_istat = StringField(
        _l("Codice ISTAT del Comune da aggiungere"),
        validators=[Optional(), Length(max=6)],
        description=_l("6 cifre, ad esempio 048017 per Firenze."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


# --- Schemes --------------------------------------------------------------------------


class BandForm(Form):
    """An ISEE co-payment band: up to this ISEE, the voucher covers this share."""

    isee_max = EuroField(_l("ISEE fino a (€)"), validators=[InputRequired()])
    coverage_percent = IntegerField(
        _l("Copertura del buono (%)"),
        validators=[InputRequired(), NumberRange(min=0, max=100)],
    )


class SchemeForm(FlaskForm):
    name = StringField(_l("Nome della misura"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Descrizione"), validators=[Optional(), Length(max=2000)])
    fund_code = SelectField(_l("Fondo"), validators=[DataRequired()])
    year = IntegerField(_l("Anno"), validators=[InputRequired(), NumberRange(min=2000, max=2100)])
    cup = StringField(
        _l("CUP"),
        validators=[Optional(), Length(max=15)],
        description=_l("Codice Unico di Progetto, 15 caratteri; obbligatorio per PNRR e PON."),
    )
    service_codes = MultiCheckboxField(
        _l("Servizi finanziati (tutti della stessa area)"), validate_choice=False
    )
    unit = SelectField(
        _l("Unità di misura"),
        choices=[SelectChoice(u, UNIT_LABELS[u]) for u in UNITS],
        validators=[DataRequired()],
    )
    unit_price = EuroField(
        _l("Prezzo unitario (€)"),
        validators=[Optional()],
        description=_l("Obbligatorio se l'unità non è l'euro, ad esempio 20,00 per un'ora."),
    )
    face_value = EuroField(_l("Valore di ciascun buono (€)"), validators=[InputRequired()])
    valid_from = DateField(_l("Valido dal"), validators=[InputRequired()])
    valid_until = DateField(_l("Valido fino al"), validators=[InputRequired()])
    budget = EuroField(_l("Budget della misura (€)"), validators=[InputRequired()])
    eligible_categories = MultiCheckboxField(
        _l("Categorie di beneficiari ammesse"),
        choices=[SelectChoice(code, label) for code, label in CATEGORY_LABELS.items()],
        description=_l("Nessuna selezione: tutte le categorie."),
    )
    min_age = IntegerField(_l("Età minima"), validators=[Optional(), NumberRange(min=0, max=130)])
    max_age = IntegerField(_l("Età massima"), validators=[Optional(), NumberRange(min=0, max=130)])
    isee_max = EuroField(_l("ISEE massimo (€)"), validators=[Optional()])
    max_active_per_beneficiary = IntegerField(
        _l("Buoni attivi per persona (massimo)"), validators=[Optional(), NumberRange(min=1)]
    )
    max_redemption = EuroField(_l("Importo massimo per prestazione (€)"), validators=[Optional()])
    presa_in_carico = BooleanField(
        _l("Presa in carico del servizio sociale"),
        description=_l(
            "Il buono segue una presa in carico da parte del servizio sociale (progetto "
            "personalizzato): il flusso SIUSS lo dichiara."
        ),
    )
    legal_model = RadioField(
        _l("Modello giuridico"),
        choices=[SelectChoice(code, label) for code, label in LEGAL_MODEL_LABELS.items()],
        default="purchase",
        description=_l(
            "Solo con l'acquisto del servizio il fornitore deve emettere fattura all'ente "
            "prima del pagamento."
        ),
    )
    copay_bands = FieldList(FormField(BandForm))

    def to_data(self) -> dict:
        """The service's plain values (see API.md), money in integer cents."""
        return {
            "name": self.name.data.strip(),
            "description": (self.description.data or "").strip() or None,
            "fund_code": self.fund_code.data,
            "year": self.year.data,
            "cup": (self.cup.data or "").strip() or None,
            "service_codes": list(self.service_codes.data or []),
            "unit": self.unit.data,
            "unit_price_cents": self.unit_price.data,
            "face_value_cents": self.face_value.data,
            "valid_from": self.valid_from.data,
            "valid_until": self.valid_until.data,
            "budget_cents": self.budget.data,
            "eligible_categories": list(self.eligible_categories.data or []),
            "min_age": self.min_age.data,
            "max_age": self.max_age.data,
            "isee_max_cents": self.isee_max.data,
            "max_active_per_beneficiary": self.max_active_per_beneficiary.data,
            "max_redemption_cents": self.max_redemption.data,
            "presa_in_carico": bool(self.presa_in_carico.data),
            "legal_model": self.legal_model.data or "purchase",
            "copay_bands": [
                {
                    "isee_max_cents": band.isee_max.data,
                    "coverage_percent": band.coverage_percent.data,
                }
                for band in (entry.form for entry in self.copay_bands)
            ],
        }


# Service field names -> form field names, for the services' per-field errors.
SCHEME_FIELD_MAP = {
    "unit_price_cents": "unit_price",
    "face_value_cents": "face_value",
    "budget_cents": "budget",
    "isee_max_cents": "isee_max",
    "max_redemption_cents": "max_redemption",
}


# --- Providers ------------------------------------------------------------------------


class _ProviderContacts:
    name = StringField(_l("Ragione sociale"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    phone = StringField(_l("Telefono"), validators=[Optional(), Length(max=40)])
    address = StringField(_l("Indirizzo"), validators=[Optional(), Length(max=300)])

    def contacts(self) -> dict:
        """Name and contacts as the service takes them; an empty contact is None."""
        return {
            "name": self.name.data.strip(),
            "email": (self.email.data or "").strip() or None,
            "phone": (self.phone.data or "").strip() or None,
            "address": (self.address.data or "").strip() or None,
        }


class _PaymentData:
    """What a payment needs (voucher.services.payments); the service checks each value."""

    fiscal_code = StringField(
        _l("Codice fiscale del fornitore"),
        validators=[Optional(), Length(max=20)],
        description=_l(
            "11 cifre per una società o una cooperativa (spesso coincide con la partita IVA), "
            "16 caratteri per una ditta individuale."
        ),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    iban = StringField(
        _l("IBAN del conto su cui pagare"),
        validators=[Optional(), Length(max=50)],
        description=_l("Un conto italiano: 27 caratteri che iniziano con IT; spazi ammessi."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    durc_valid_until = DateField(
        _l("DURC valido fino al"),
        validators=[Optional()],
        description=_l("La scadenza indicata sul Documento unico di regolarità contributiva."),
    )
    dedicated_account_declared = BooleanField(
        _l("Dichiarazione del conto dedicato ricevuta (L. 136/2010)"),
        description=_l(
            "Il fornitore ha dichiarato che l'IBAN è un conto dedicato alle commesse "
            "pubbliche (tracciabilità dei flussi finanziari)."
        ),
    )

    def payment_data(self) -> dict:
        """The payment fields as the service takes them; an empty field clears the value."""
        return {
            "fiscal_code": (self.fiscal_code.data or "").strip() or None,
            "iban": (self.iban.data or "").strip() or None,
            "durc_valid_until": self.durc_valid_until.data,
            "dedicated_account_declared": bool(self.dedicated_account_declared.data),
        }


class ProviderForm(_PaymentData, _ProviderContacts, FlaskForm):
    vat_number = StringField(
        _l("Partita IVA"),
        validators=[DataRequired(), Length(max=20)],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )


class ProviderEditForm(_PaymentData, _ProviderContacts, FlaskForm):
    """A registered provider's name, contacts and payment data (the partita IVA stays)."""


class AccreditationForm(FlaskForm):
    service_code = SelectField(_l("Servizio"), validators=[DataRequired()])
    valid_from = DateField(_l("Accreditato dal"), validators=[InputRequired()])
    valid_until = DateField(
        _l("Accreditato fino al"),
        validators=[Optional()],
        description=_l("Vuoto: senza scadenza."),
    )


class EndAccreditationForm(FlaskForm):
    valid_until = DateField(_l("Ultimo giorno di accreditamento"), validators=[InputRequired()])


class SuspendForm(FlaskForm):
    reason = TextAreaField(
        _l("Motivo della sospensione"), validators=[DataRequired(), Length(max=500)]
    )


class ApiKeyForm(FlaskForm):
    label = StringField(
        _l("Descrizione della chiave"),
        validators=[Optional(), Length(max=100)],
        description=_l("Per riconoscerla, ad esempio il nome del gestionale che la usa."),
    )


# --- Users ----------------------------------------------------------------------------


class _PasswordFields:
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l(
            "Almeno 12 caratteri, difficile da indovinare: per esempio una frase di quattro "
            "o più parole non collegate tra loro. Niente nome utente, nomi, date o sequenze "
            "della tastiera."
        ),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Ripeti la password"),
        validators=[DataRequired(), EqualTo("password", message=_l("Le password non coincidono."))],
        render_kw={"autocomplete": "new-password"},
    )


def _role_choices():
    return [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]


class UserForm(_PasswordFields, FlaskForm):
    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    full_name = StringField(_l("Nome e cognome"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Ruolo"), choices=_role_choices(), validators=[DataRequired()])
    provider_id = SelectField(
        _l("Fornitore (solo per il ruolo fornitore)"), coerce=_optional_int, validate_choice=False
    )


class OperatorForm(_PasswordFields, FlaskForm):
    """A provider's operator account: a user with the provider role."""

    username = StringField(
        _l("Nome utente"),
        validators=[DataRequired(), Length(max=80)],
        render_kw={"autocomplete": "off"},
    )
    full_name = StringField(_l("Nome e cognome"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])


class PasswordForm(_PasswordFields, FlaskForm):
    pass


class RoleForm(FlaskForm):
    role = SelectField(_l("Ruolo"), choices=_role_choices(), validators=[DataRequired()])
    provider_id = SelectField(
        _l("Fornitore (solo per il ruolo fornitore)"), coerce=_optional_int, validate_choice=False
    )
