"""Italian error pages for everything outside /api, and the refusal of input no page can
store."""

from flask import Flask, abort, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException

from ..errors import DomainError

MESSAGES = {
    400: (
        _l("Richiesta non valida"),
        _l("La richiesta non è stata compresa. Controlla i dati e riprova."),
    ),
    401: (_l("Accesso richiesto"), _l("Per vedere questa pagina devi accedere.")),
    403: (_l("Accesso non consentito"), _l("Il tuo profilo non consente di vedere questa pagina.")),
    404: (_l("Pagina non trovata"), _l("La pagina cercata non esiste o non è più disponibile.")),
    405: (_l("Operazione non consentita"), _l("Questa pagina non accetta l'operazione richiesta.")),
    413: (_l("File troppo grande"), _l("Il file inviato supera la dimensione massima consentita.")),
    422: (_l("Dati non validi"), _l("Alcuni dati inseriti non sono validi.")),
    429: (
        _l("Troppe richieste"),
        _l("Hai fatto troppi tentativi. Attendi qualche minuto e riprova."),
    ),
    503: (
        _l("Servizio momentaneamente non disponibile"),
        _l("Il servizio è temporaneamente non raggiungibile. Riprova tra qualche istante."),
    ),
    500: (
        _l("Errore del sistema"),
        _l(
            "Si è verificato un errore inatteso. Riprova tra poco; se il "
            "problema continua contatta l'assistenza."
        ),
    ),
}
# A form sent from a page left open too long, or from another site.
CSRF_MESSAGE = (
    _l("Modulo scaduto"),
    _l(
        "Il modulo non è più valido (la pagina era aperta da troppo tempo). "
        "Ricarica la pagina e riprova."
    ),
)


def render_error_page(error: HTTPException):
    """An Italian (or English) page for an HTTP error, never a traceback."""
    status = error.code or 500
    if isinstance(error, CSRFError):
        title, message = CSRF_MESSAGE
    else:
        title, message = MESSAGES.get(status, (error.name, error.description))
    response = render_template(
        "errors/error.html", status=status, title=str(title), message=str(message)
    )
    return response, status, _allow_header(error)


def _allow_header(error: HTTPException) -> dict:
    """405 answers keep the Allow header that names the accepted methods."""
    return {k: v for k, v in error.get_headers() if k.lower() == "allow"}


def render_domain_error_page(error: DomainError):
    """A page for a domain error that no view caught (e.g. a NotFound from a service)."""
    return render_template(
        "errors/error.html", status=error.status, title=str(error.title), message=error.detail
    ), error.status


# The forms that answer a NUL with their own message (a family's balance check, a
# provider's redemption steps); any other form that holds one is a 400.
FORMS_THAT_EXPLAIN_A_NUL = ("beneficiary.", "provider.")


def refuse_unstorable_input(app: Flask) -> None:
    """Pages drop NUL characters from the query string: no database stores one (PostgreSQL
    refuses it, a server error once a page queried with it) and no keyboard types one, so
    the page answers as it would to the rest of the filters. A form is never changed (a
    tampered key must not become another key): one holding a NUL is a 400, unless it
    explains the NUL itself. The API refuses it field by field, with its own messages."""

    def _clean(values: MultiDict) -> ImmutableMultiDict | None:
        if not any("\x00" in k or "\x00" in v for k, v in values.items(multi=True)):
            return None
        return ImmutableMultiDict(
            [(k.replace("\x00", ""), v.replace("\x00", "")) for k, v in values.items(multi=True)]
        )

    @app.before_request
    def _no_nul_characters():
        if request.path.startswith("/api/"):
            return
        cleaned = _clean(request.args)
        if cleaned is not None:
            request.args = cleaned
        if (
            request.method == "POST"
            and not (request.endpoint or "").startswith(FORMS_THAT_EXPLAIN_A_NUL)
            and _clean(request.form) is not None
        ):
            abort(400)
