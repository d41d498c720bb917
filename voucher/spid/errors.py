"""What a person reads when a SPID or CIE sign-in fails.

The identity providers report some failures in the StatusMessage "ErrorCode nrNN"; the SPID
"Regole tecniche" (tabella "Anomalie derivanti dall'utente") ask the service provider to
show a specific message for each of them. Every other failure (a response that does not
verify, arrives late, or answers no request of ours) gets one general message: the details
go to the log, not to the page.
"""

import re

from flask_babel import lazy_gettext as _l


class SignInFailed(Exception):
    """A response was refused; `code` names the message to show, `reason` is for the log."""

    def __init__(self, code: str, reason: str = ""):
        super().__init__(reason or code)
        self.code = code
        self.reason = reason


MESSAGES = {
    "nr19": _l(
        "Autenticazione non riuscita: le credenziali sono state inserite in modo errato "
        "troppe volte. Riprova più tardi o rivolgiti al tuo gestore dell'identità digitale."
    ),
    "nr20": _l(
        "La tua identità digitale non ha credenziali del livello di sicurezza richiesto per "
        "questo servizio. Rivolgiti al tuo gestore per attivarle."
    ),
    "nr21": _l("Il tempo per completare l'accesso è scaduto. Riprova dall'inizio."),
    "nr22": _l(
        "Non hai dato il consenso all'invio dei tuoi dati al Comune: senza di essi non è "
        "possibile mostrarti i tuoi buoni. Puoi riprovare quando vuoi."
    ),
    "nr23": _l(
        "La tua identità digitale risulta sospesa o revocata, oppure le credenziali sono "
        "bloccate. Rivolgiti al tuo gestore dell'identità digitale."
    ),
    "nr25": _l("Hai annullato l'accesso. Puoi riprovare quando vuoi."),
    "unknown_idp": _l(
        "Il gestore dell'identità digitale scelto non è tra quelli configurati. "
        "Scegline un altro dall'elenco."
    ),
    "no_fiscal_code": _l(
        "Il gestore dell'identità digitale non ha inviato il tuo codice fiscale: senza di "
        "esso non è possibile mostrarti i tuoi buoni."
    ),
    "invalid": _l(
        "Non è stato possibile completare l'accesso: la risposta ricevuta non è valida o "
        "è scaduta. Riprova dall'inizio; se il problema continua, rivolgiti ai servizi "
        "sociali del Comune."
    ),
}

_ERROR_CODE = re.compile(r"ErrorCode nr(\d{2})", re.IGNORECASE)


def code_of_status_message(message: str | None) -> str:
    """The message key for an identity provider's StatusMessage ("ErrorCode nr22")."""
    match = _ERROR_CODE.search(message or "")
    key = f"nr{match.group(1)}" if match else ""
    return key if key in MESSAGES else "invalid"


def message(code: str) -> str:
    """The Italian message for a failure code."""
    return str(MESSAGES.get(code, MESSAGES["invalid"]))
