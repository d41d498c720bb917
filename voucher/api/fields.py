"""Marshmallow building blocks shared by the API schemas."""

from datetime import UTC

from marshmallow import Schema, ValidationError, fields, validate

# Money and counters are 32-bit INTEGER columns: a larger number must be a 422, never a
# database error.
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1


def Cents(*, big: bool = False, **kwargs):  # noqa: N802 - reads like a field class
    """An integer number of euro cents (never a float); `big` for 64-bit columns (budgets)."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_BIGINT if big else MAX_INT))
    return fields.Integer(strict=True, **kwargs)


class Text(fields.String):
    """Trimmed text the database can store: bounded, valid UTF-8, no NUL characters.
    Blank is refused, or read as null when the field allows null."""

    def __init__(self, max_length: int, *, validate=None, **kwargs):
        extra = validate if isinstance(validate, list | tuple) else [validate] if validate else []
        super().__init__(validate=[_length(max_length), *extra], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if "\x00" in text or not _is_utf8(text):
            raise ValidationError("Il testo contiene caratteri non ammessi.")
        if not text:
            if self.allow_none:
                return None
            raise ValidationError("Il campo non può essere vuoto.")
        return text

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


def _length(max_length: int):
    return validate.Length(max=max_length, error=f"Al massimo {max_length} caratteri.")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return False
    return True


class Timestamp(fields.DateTime):
    """An ISO 8601 timestamp with its offset; SQLite hands back naive UTC datetimes."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class ProblemSchema(Schema):
    """RFC 9457 problem details, with the contract's machine-readable `code`."""

    type = fields.String()
    status = fields.Integer()
    title = fields.String()
    detail = fields.String()
    code = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


# Integrators read the API's validation messages: they are Italian, like the rest of the
# interface. Set once here, for every schema of the API.
_ITALIAN_MESSAGES = {
    fields.Field: {
        "required": "Campo obbligatorio.",
        "null": "Il campo non può essere nullo.",
        "validator_failed": "Valore non valido.",
    },
    fields.String: {"invalid": "Deve essere una stringa.", "invalid_utf8": "Testo non valido."},
    fields.Number: {"invalid": "Deve essere un numero.", "too_large": "Numero troppo grande."},
    fields.Integer: {"invalid": "Deve essere un numero intero."},
    fields.Boolean: {"invalid": "Deve essere true o false."},
    fields.Date: {"invalid": "Data non valida: usare AAAA-MM-GG.", "format": "Data non valida."},
    fields.DateTime: {
        "invalid": "Data e ora non valide: usare ISO 8601.",
        "invalid_awareness": "Data e ora non valide: indicare il fuso orario.",
        "format": "Data e ora non valide.",
    },
    fields.List: {"invalid": "Deve essere una lista."},
    fields.Nested: {"type": "Deve essere un oggetto."},
    fields.Mapping: {"invalid": "Deve essere un oggetto."},
    fields.Email: {"invalid": "Indirizzo email non valido."},
}


def _use_italian_messages() -> None:
    for field_class, messages in _ITALIAN_MESSAGES.items():
        field_class.default_error_messages = {
            **field_class.default_error_messages,
            **messages,
        }
    Schema._default_error_messages = {
        "type": "Deve essere un oggetto JSON.",
        "unknown": "Campo non previsto.",
    }
    validate.Length.message_min = "Almeno {min} elementi o caratteri."
    validate.Length.message_max = "Al massimo {max} elementi o caratteri."
    validate.Length.message_all = "Tra {min} e {max} elementi o caratteri."
    validate.Length.message_equal = "Esattamente {equal} elementi o caratteri."
    validate.Range.message_min = "Deve essere {min_op} {{min}}."
    validate.Range.message_max = "Deve essere {max_op} {{max}}."
    validate.Range.message_all = "Deve essere {min_op} {{min}} e {max_op} {{max}}."
    validate.Range.message_gte = "almeno"
    validate.Range.message_gt = "maggiore di"
    validate.Range.message_lte = "al massimo"
    validate.Range.message_lt = "minore di"
    validate.OneOf.default_message = "Valore non ammesso: uno tra {choices}."
    validate.Regexp.default_message = "Formato non valido."
    validate.Email.default_message = "Indirizzo email non valido."


_use_italian_messages()
