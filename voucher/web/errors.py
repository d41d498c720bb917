"""Italian error pages for everything outside /api."""

import logging

from flask import Flask, render_template
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..errors import DomainError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Richiesta non valida", "La richiesta non è stata compresa. Controlla i dati e riprova."),
    401: ("Accesso richiesto", "Per vedere questa pagina devi accedere."),
    403: ("Accesso non consentito", "Il tuo profilo non consente di vedere questa pagina."),
    404: ("Pagina non trovata", "La pagina cercata non esiste o non è più disponibile."),
    405: ("Operazione non consentita", "Questa pagina non accetta l'operazione richiesta."),
    413: ("File troppo grande", "Il file inviato supera la dimensione massima consentita."),
    422: ("Dati non validi", "Alcuni dati inseriti non sono validi."),
    429: ("Troppe richieste", "Hai fatto troppi tentativi. Attendi qualche minuto e riprova."),
    500: (
        "Errore del sistema",
        "Si è verificato un errore inatteso. Riprova tra poco; se il "
        "problema continua contatta l'assistenza.",
    ),
}


def render_error_page(error: HTTPException):
    status = error.code or 500
    title, message = MESSAGES.get(status, (error.name, error.description))
    return render_template("errors/error.html", status=status, title=title, message=message), status


def render_domain_error_page(error: DomainError):
    from ..api.problems import STATUS_BY_CODE

    status = STATUS_BY_CODE.get(error.code, 409)
    return render_template(
        "errors/error.html", status=status, title=str(error.title), message=error.detail
    ), status


def init_app(app: Flask) -> None:
    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        from ..api.problems import http_problem, is_api_request, problem
        from ..extensions import api, db

        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        db.session.rollback()
        if isinstance(error, IntegrityError):
            # A constraint the code did not foresee (e.g. a race on a unique value): the
            # database kept the data whole; the client gets a conflict, not a crash.
            log.warning("integrity error: %s", type(error.orig).__name__)
            detail = "L'operazione è in conflitto con dati già registrati. Ricarica e riprova."
            if is_api_request():
                return problem(409, "conflict", detail)
            return render_template(
                "errors/error.html", status=409, title="Conflitto", message=detail
            ), 409
        log.exception("unhandled error")
        if is_api_request():
            return http_problem(InternalServerError())
        return render_error_page(InternalServerError())
