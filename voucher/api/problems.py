"""RFC 9457 problem details: how the API words every error (voucher.boundary decides when),
and the reading of request bodies, whose every failure is a 400 problem."""

import json

from flask import jsonify, request
from flask_smorest import Api, Blueprint
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request
from werkzeug.exceptions import HTTPException

from ..errors import DomainError

PROBLEM_TYPE = "application/problem+json"
INVALID_JSON = "Il corpo della richiesta non è JSON valido."
TOO_MANY_DIGITS = "Il corpo della richiesta contiene un numero con troppe cifre."

# Codes for plain HTTP errors.
CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

TITLES = {
    400: "Richiesta non valida",
    401: "Autenticazione richiesta",
    403: "Operazione non consentita",
    404: "Risorsa non trovata",
    405: "Metodo non consentito",
    409: "Conflitto",
    413: "Richiesta troppo grande",
    415: "Formato non supportato",
    422: "Dati non validi",
    429: "Troppe richieste",
    500: "Errore interno",
    503: "Servizio non disponibile",
}


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: dict | None = None,
    headers: dict | None = None,
    extensions: dict | None = None,
):
    body = {
        "type": "about:blank",
        "status": status,
        "title": title or TITLES.get(status, "Errore"),
        "detail": detail,
        "code": code,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def domain_problem(error: DomainError):
    status = error.status
    errors = error.errors if error.code == "validation_error" else None
    if error.code == "validation_error" and errors is None:
        errors = {"_schema": [error.detail]}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(
        status,
        error.code,
        error.detail,
        title=str(error.title),
        errors=errors,
        headers=headers,
        extensions=error.extensions,
    )


def flatten_messages(messages, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nest errors by location and index; the contract wants
    {field: [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "form", "headers", "path", "files"):
                name = ""
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            for field, msgs in flatten_messages(value, name).items():
                flat.setdefault(field, []).extend(msgs)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        flat[prefix or "_schema"] = [str(messages)]
    return flat


def http_problem(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    messages = data.get("messages")
    if status == 422 or (messages and status == 400):
        errors = flatten_messages(messages or {})
        if status == 400:
            return problem(400, "bad_request", INVALID_JSON, errors=errors)
        return problem(422, "validation_error", "Alcuni campi non sono validi.", errors=errors)
    code = CODE_BY_STATUS.get(status, "http_error")
    detail = error.description if status != 500 else "Si è verificato un errore inatteso."
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, code, detail, headers=headers)


class _TooManyDigits(ValueError):
    pass


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:  # past sys.get_int_max_str_digits() (4,300): refused in linear time
        raise _TooManyDigits from None


class JsonBodyParser(FlaskParser):
    """webargs' parser, answering 400 `bad_request` to every body it cannot read, never a
    server error. Python refuses to turn more than 4,300 digits into an int (a guard against
    quadratic time) with a ValueError that the JSON decoder lets through: that is a bad body
    too. (NaN and Infinity, which Python reads, reach the fields, which refuse them: 422.)"""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            text = req.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            self._refuse(INVALID_JSON)
        return json.loads(text, parse_int=_integer)

    def load_json(self, req, schema):
        try:
            return super().load_json(req, schema)  # empty: missing; malformed: refused
        except _TooManyDigits:
            self._refuse(TOO_MANY_DIGITS)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        self._refuse(INVALID_JSON)

    @staticmethod
    def _refuse(message: str):
        # Malformed input, not a fault: a 400 problem, never logged with a traceback.
        abort(400, messages={"json": [message]})


# flask-smorest's decorators take the parser when they are applied, so it is set here, before
# any resource module builds its blueprint (this module is imported with the extensions).
Blueprint.ARGUMENTS_PARSER = JsonBodyParser()


class ProblemApi(Api):
    """flask-smorest's Api, documenting every operation's errors as problem details. Its own
    error handler is not registered: voucher.boundary translates every error, once."""

    from .fields import ProblemSchema as ERROR_SCHEMA  # noqa: N811

    def _register_error_handlers(self):
        pass
