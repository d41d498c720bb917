"""The API's field types, the one home of them all: every schema of the API builds on these."""

import re
from datetime import UTC
from decimal import Decimal, DecimalException

from marshmallow import Schema, ValidationError, fields, validate

from ..errors import ValidationFailed
from ..periods import Month

# Money, counters and ids are 32-bit INTEGER columns: a larger number must be a 422, never a
# database error (and can name nothing).
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1
MAX_QUANTITY = Decimal(10_000)
# Control characters, and lone surrogates (valid in JSON escapes, not in UTF-8 storage).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SPACED_OFFSET = re.compile(r"([T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")
_ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)
_NOT_ALLOWED = "Il testo contiene caratteri non ammessi."


def Cents(*, big: bool = False, **kwargs):  # noqa: N802 - reads like a field class
    """An integer number of euro cents (never a float); `big` for 64-bit columns (budgets)."""
    kwargs.setdefault("validate", validate.Range(min=0, max=MAX_BIGINT if big else MAX_INT))
    return fields.Integer(strict=True, **kwargs)


def Id(*, strict: bool = True, **kwargs):  # noqa: N802 - reads like a field class
    """A database id: a positive 32-bit integer (in a query string, written as text)."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=MAX_INT), **kwargs)


class Text(fields.String):
    """Text the database can store: bounded, valid UTF-8, no NUL characters.

    Trimmed by default, and then blank is refused, or read as null when the field allows
    null. `trim=False` is for what reaches the service exactly as sent (a voucher code, a
    PIN, a note): nothing is stripped, `min_length` bounds it, and every control character
    is refused."""

    def __init__(
        self, max_length: int, *, min_length: int = 0, trim: bool = True, validate=None, **kwargs
    ):
        self.trim = trim
        extra = validate if isinstance(validate, list | tuple) else [validate] if validate else []
        if trim:  # blank is refused after trimming; a longer minimum is checked as given
            checks = [_bounds(min_length, max_length) if min_length > 1 else _length(max_length)]
        else:
            checks = [_bounds(min_length, max_length), _no_control_characters]
        super().__init__(validate=[*checks, *extra], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        if not self.trim:
            return text
        text = text.strip()
        if "\x00" in text or not _is_utf8(text):
            raise ValidationError(_NOT_ALLOWED)
        if not text:
            if self.allow_none:
                return None
            raise ValidationError("Il campo non può essere vuoto.")
        return text

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


def Reason(**kwargs):  # noqa: N802 - reads like a field class
    """Why staff did something: required, kept in the audit trail."""
    return Text(
        500, trim=False, validate=validate.Regexp(r"\S", error="Indicare il motivo."), **kwargs
    )


def _length(max_length: int):
    return validate.Length(max=max_length, error=f"Al massimo {max_length} caratteri.")


def _bounds(min_length: int, max_length: int):
    return validate.Length(min=min_length or None, max=max_length)


def _no_control_characters(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError(_NOT_ALLOWED)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        return False
    return True


class Quantity(fields.Decimal):
    """A quantity of units with at most two decimals. Read through str(), so a JSON 1.1 is
    exactly 1.1 (never its binary approximation); written as a JSON number."""

    def __init__(self, **kwargs):
        super().__init__(
            as_string=False,
            validate=[
                validate.Range(min=Decimal(0), min_inclusive=False, max=MAX_QUANTITY),
                _two_decimals,
            ],
            **kwargs,
        )

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return float(value)


class ComputedQuantity(Quantity):
    """A read-only Quantity worked out from the object written out, not read from one of its
    attributes: `compute(obj)` gives a Decimal, or None (null). Never read, so the bounds of
    a quantity sent in do not apply (a large voucher may buy more than 10000 meals)."""

    def __init__(self, compute, **kwargs):
        super().__init__(dump_only=True, allow_none=True, **kwargs)
        self.validators = []
        self.compute = compute

    def get_value(self, obj, attr, accessor=None, default=None):
        return self.compute(obj)


def _two_decimals(value: Decimal) -> None:
    try:
        places = -value.normalize().as_tuple().exponent
    except DecimalException:  # beyond what Decimal represents: the range check says why
        return
    if places > 2:
        raise ValidationError("Al massimo due decimali.")


class MonthField(fields.String):
    """A calendar month, YYYY-MM, read as a Month."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return Month.parse(text)
        except ValidationFailed as error:
            raise ValidationError(error.errors["month"]) from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class Timestamp(fields.DateTime):
    """An ISO 8601 timestamp, always written in UTC with its offset; SQLite hands back
    naive UTC datetimes."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()


class SinceField(fields.AwareDateTime):
    """An ISO 8601 timestamp in a query string; a bare '+' in the offset arrives as a
    space when the caller forgot to encode it, so it is put back. Naive means UTC."""

    def __init__(self, **kwargs):
        super().__init__(default_timezone=UTC, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        value = _SPACED_OFFSET.sub(r"\1+\2", value.strip())
        if not _ISO_TIMESTAMP.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        try:
            return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        except (OverflowError, ValueError):  # e.g. year 1 with a positive offset
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class ProblemSchema(Schema):
    """RFC 9457 problem details, with the contract's machine-readable `code`."""

    type = fields.String()
    status = fields.Integer()
    title = fields.String()
    detail = fields.String()
    code = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


def problem_responses(described: dict[int, str]) -> dict:
    """OpenAPI responses for the errors an operation answers, each with its contract codes."""
    return {
        str(status): {
            "description": description,
            "content": {"application/problem+json": {"schema": ProblemSchema}},
        }
        for status, description in described.items()
    }


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
