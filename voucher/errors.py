"""Domain errors. Each carries the contract's machine-readable code and an Italian message.

The front doors translate them once: a flash message on pages, problem+json on the API
(whose status for each code lives in voucher.api.problems).
"""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    code = "domain_error"
    title = _l("Operazione non consentita")

    def __init__(self, detail: str | None = None, *, errors: dict | None = None):
        self.detail = detail or str(self.title)
        self.errors = errors
        super().__init__(self.detail)


def _error(name: str, code: str, title) -> type[DomainError]:
    return type(name, (DomainError,), {"code": code, "title": title})


NotFound = _error("NotFound", "not_found", _l("Risorsa non trovata"))
ValidationFailed = _error("ValidationFailed", "validation_error", _l("Dati non validi"))
Conflict = _error("Conflict", "conflict", _l("Operazione in conflitto con lo stato attuale"))
NotEligible = _error("NotEligible", "not_eligible", _l("Il beneficiario non ha i requisiti"))
BudgetExceeded = _error("BudgetExceeded", "budget_exceeded", _l("Budget della misura esaurito"))
LimitReached = _error(
    "LimitReached", "limit_reached", _l("Raggiunto il numero massimo di buoni attivi")
)
SchemeNotActive = _error("SchemeNotActive", "scheme_not_active", _l("La misura non è attiva"))
DuplicateBeneficiary = _error(
    "DuplicateBeneficiary", "duplicate_beneficiary", _l("Codice fiscale già registrato")
)
VoucherNotFound = _error("VoucherNotFound", "voucher_not_found", _l("Buono non trovato"))
InvalidSignature = _error(
    "InvalidSignature", "invalid_signature", _l("QR code non valido o alterato")
)
InsufficientBalance = _error(
    "InsufficientBalance", "insufficient_balance", _l("Saldo del buono insufficiente")
)
VoucherExpired = _error("VoucherExpired", "voucher_expired", _l("Il buono è scaduto"))
VoucherNotYetValid = _error(
    "VoucherNotYetValid", "voucher_not_yet_valid", _l("Il buono non è ancora valido")
)
VoucherRevoked = _error("VoucherRevoked", "voucher_revoked", _l("Il buono è stato revocato"))
VoucherSuspended = _error("VoucherSuspended", "voucher_suspended", _l("Il buono è sospeso"))
VoucherExhausted = _error("VoucherExhausted", "voucher_exhausted", _l("Il buono è esaurito"))
NotAccredited = _error(
    "NotAccredited", "not_accredited", _l("Fornitore non accreditato per il servizio")
)
ServiceNotInScheme = _error(
    "ServiceNotInScheme", "service_not_in_scheme", _l("Servizio non previsto dalla misura")
)
OverRedemptionLimit = _error(
    "OverRedemptionLimit", "over_redemption_limit", _l("Importo oltre il limite per prestazione")
)
IdempotencyConflict = _error(
    "IdempotencyConflict",
    "idempotency_conflict",
    _l("Chiave di idempotenza già usata per un'altra richiesta"),
)
AlreadyReversed = _error("AlreadyReversed", "already_reversed", _l("Riscatto già stornato"))
InvalidCodeOrPin = _error(
    "InvalidCodeOrPin", "invalid_code_or_pin", _l("Codice o PIN non corretti")
)
Locked = _error("Locked", "locked", _l("Troppi tentativi: riprova più tardi"))
Unauthorized = _error("Unauthorized", "unauthorized", _l("Autenticazione richiesta"))
InvalidCredentials = _error(
    "InvalidCredentials", "invalid_credentials", _l("Nome utente o password non corretti")
)
