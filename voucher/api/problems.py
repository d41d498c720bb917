"""RFC 9457 problem details: how the API words every error (voucher.boundary decides when)."""

from flask import jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from ..errors import DomainError

PROBLEM_TYPE = "application/problem+json"

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
            return problem(
                400, "bad_request", "Il corpo della richiesta non è JSON valido.", errors=errors
            )
        return problem(422, "validation_error", "Alcuni campi non sono validi.", errors=errors)
    code = CODE_BY_STATUS.get(status, "http_error")
    detail = error.description if status != 500 else "Si è verificato un errore inatteso."
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, code, detail, headers=headers)


class ProblemApi(Api):
    """flask-smorest's Api, documenting every operation's errors as problem details. Its own
    error handler is not registered: voucher.boundary translates every error, once."""

    from .fields import ProblemSchema as ERROR_SCHEMA  # noqa: N811

    def _register_error_handlers(self):
        pass
