"""Marshmallow building blocks shared by the API schemas."""

from marshmallow import Schema, fields, validate


def Cents(**kwargs):  # noqa: N802 - reads like a field class
    """An integer number of euro cents (never a float)."""
    kwargs.setdefault("validate", validate.Range(min=0, max=10**12))
    return fields.Integer(strict=True, **kwargs)


class ProblemSchema(Schema):
    """RFC 9457 problem details, with the contract's machine-readable `code`."""

    type = fields.String()
    status = fields.Integer()
    title = fields.String()
    detail = fields.String()
    code = fields.String()
    instance = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
