"""Domain errors. Each carries the contract's machine-readable code, its HTTP status and an
Italian message, so every front door translates it the same way: a flash message on pages,
problem+json on the API (voucher.handlers registers both once), a message and exit 1 on the
command line.

A race that the database settles (two registrations of one partita IVA at once) must read
as the domain error the service would have raised had it seen the winner: CONSTRAINT_ERRORS
names the error for each unique constraint, and voucher.db applies it on every door.
"""

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    code = "domain_error"
    status = 409
    title = _l("Operazione non consentita")
    # A refusal that is itself a fact to keep (a failed sign-in counts towards the lockout):
    # the transaction boundary commits the work done before it instead of rolling it back.
    keeps_work = False

    def __init__(self, detail: str | None = None, *, errors: dict | None = None, **extensions):
        self.detail = detail or str(self.title)
        self.errors = errors
        # Further members of the problem (RFC 9457 extensions), such as a refusal's reasons.
        self.extensions = extensions
        super().__init__(self.detail)


def _error(name: str, code: str, status: int, title, **extra) -> type[DomainError]:
    return type(name, (DomainError,), {"code": code, "status": status, "title": title, **extra})


NotFound = _error("NotFound", "not_found", 404, _l("Risorsa non trovata"))
ValidationFailed = _error("ValidationFailed", "validation_error", 422, _l("Dati non validi"))
Conflict = _error("Conflict", "conflict", 409, _l("Operazione in conflitto con lo stato attuale"))
NotEligible = _error("NotEligible", "not_eligible", 409, _l("Il beneficiario non ha i requisiti"))
BudgetExceeded = _error(
    "BudgetExceeded", "budget_exceeded", 409, _l("Budget della misura esaurito")
)
LimitReached = _error(
    "LimitReached", "limit_reached", 409, _l("Raggiunto il numero massimo di buoni attivi")
)
SchemeNotActive = _error("SchemeNotActive", "scheme_not_active", 409, _l("La misura non è attiva"))
DuplicateBeneficiary = _error(
    "DuplicateBeneficiary", "duplicate_beneficiary", 409, _l("Codice fiscale già registrato")
)
PeriodClosed = _error(
    "PeriodClosed",
    "period_closed",
    409,
    _l("Il periodo è chiuso: rendiconto approvato o SIUSS inviato"),
)
SiussCodeMissing = _error(
    "SiussCodeMissing",
    "siuss_code_missing",
    409,
    _l("Codice ente SIUSS non impostato"),
)
PaymentBlocked = _error(
    "PaymentBlocked", "payment_blocked", 409, _l("Il pagamento non si può registrare")
)
InvoiceMismatch = _error(
    "InvoiceMismatch",
    "invoice_mismatch",
    422,
    _l("La fattura non corrisponde al rendiconto"),
)
VoucherNotFound = _error("VoucherNotFound", "voucher_not_found", 404, _l("Buono non trovato"))
InvalidSignature = _error(
    "InvalidSignature", "invalid_signature", 400, _l("QR code non valido o alterato")
)
InsufficientBalance = _error(
    "InsufficientBalance", "insufficient_balance", 409, _l("Saldo del buono insufficiente")
)
VoucherExpired = _error("VoucherExpired", "voucher_expired", 409, _l("Il buono è scaduto"))
VoucherNotYetValid = _error(
    "VoucherNotYetValid", "voucher_not_yet_valid", 409, _l("Il buono non è ancora valido")
)
VoucherRevoked = _error("VoucherRevoked", "voucher_revoked", 409, _l("Il buono è stato revocato"))
VoucherSuspended = _error("VoucherSuspended", "voucher_suspended", 409, _l("Il buono è sospeso"))
VoucherExhausted = _error("VoucherExhausted", "voucher_exhausted", 409, _l("Il buono è esaurito"))
NotAccredited = _error(
    "NotAccredited", "not_accredited", 403, _l("Fornitore non accreditato per il servizio")
)
ServiceNotInScheme = _error(
    "ServiceNotInScheme", "service_not_in_scheme", 422, _l("Servizio non previsto dalla misura")
)
OverRedemptionLimit = _error(
    "OverRedemptionLimit",
    "over_redemption_limit",
    422,
    _l("Importo oltre il limite per prestazione"),
)
IdempotencyConflict = _error(
    "IdempotencyConflict",
    "idempotency_conflict",
    422,
    _l("Chiave di idempotenza già usata per un'altra richiesta"),
)
AlreadyReversed = _error("AlreadyReversed", "already_reversed", 409, _l("Riscatto già stornato"))
InvalidCodeOrPin = _error(
    "InvalidCodeOrPin",
    "invalid_code_or_pin",
    401,
    _l("Codice o PIN non corretti"),
    keeps_work=True,
)
Locked = _error("Locked", "locked", 429, _l("Troppi tentativi: riprova più tardi"), keeps_work=True)
Unauthorized = _error("Unauthorized", "unauthorized", 401, _l("Autenticazione richiesta"))
InvalidCredentials = _error(
    "InvalidCredentials",
    "invalid_credentials",
    401,
    _l("Nome utente o password non corretti"),
    keeps_work=True,
)


# The domain error for each unique constraint a race can break, by the constraint's name
# (PostgreSQL reports it) and by its table and columns (SQLite reports those instead).
CONSTRAINT_ERRORS: dict[str, tuple[str, type[DomainError], str]] = {
    "uq_provider_vat_number": (
        "provider.vat_number",
        Conflict,
        "Un fornitore con questa partita IVA è già registrato.",
    ),
    "uq_beneficiary_fiscal_code": (
        "beneficiary.fiscal_code",
        DuplicateBeneficiary,
        "Un beneficiario con questo codice fiscale è già registrato.",
    ),
    "uq_app_user_username": (
        "app_user.username",
        Conflict,
        "Questo nome utente esiste già.",
    ),
    "uq_ledger_entry_reverses_id": (
        "ledger_entry.reverses_id",
        AlreadyReversed,
        "Questo riscatto è già stato stornato.",
    ),
    "uq_statement_provider_id_month": (
        "statement.provider_id, statement.month",
        Conflict,
        "Il rendiconto di questo mese è già approvato.",
    ),
}


def error_for_constraint(message: str, constraint_name: str | None) -> DomainError | None:
    """The domain error a broken unique constraint stands for, or None when it is not one a
    race is expected to break."""
    for name, (columns, error, detail) in CONSTRAINT_ERRORS.items():
        if constraint_name == name or f"UNIQUE constraint failed: {columns}" in message:
            return error(detail)
    return None
