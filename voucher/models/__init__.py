"""The domain model, one module per aggregate."""

from .audit import AuditChain, AuditEvent
from .batch import BATCH_STATUSES, IssueBatch, IssueBatchDocument, IssueBatchRow
from .beneficiary import (
    CATEGORIES,
    ISEE_TYPES,
    REPRESENTATIVE_ROLES,
    Beneficiary,
    Household,
    IseeRecord,
)
from .beneficiary_import import BeneficiaryImport, BeneficiaryImportRow
from .catalogue import AREAS, UNITS, Fund, Service, SiussPrestazione
from .ente import Comune, Ente
from .form_token import FORM_TOKEN_PURPOSES, FormToken
from .ledger import LedgerEntry
from .notification import Notification, NotificationCursor
from .provider import Accreditation, ApiKey, Provider
from .ratelimit import RateLimitCounter
from .scheme import SCHEME_STATUSES, CopayBand, Scheme, scheme_provider, scheme_service
from .selfservice import BeneficiarySession
from .statement import (
    STATEMENT_STATUSES,
    SiussFlow,
    SiussOutcome,
    Statement,
    StatementInvoice,
    StatementLine,
)
from .team import BREAK_GLASS_KINDS, BreakGlassGrant, TeamComune
from .user import ROLES, ApiToken, User
from .voucher import VOUCHER_STATUSES, Voucher, VoucherCompetence, VoucherCoverage

__all__ = [
    "AREAS",
    "BATCH_STATUSES",
    "BREAK_GLASS_KINDS",
    "CATEGORIES",
    "REPRESENTATIVE_ROLES",
    "FORM_TOKEN_PURPOSES",
    "ISEE_TYPES",
    "ROLES",
    "SCHEME_STATUSES",
    "STATEMENT_STATUSES",
    "UNITS",
    "VOUCHER_STATUSES",
    "Accreditation",
    "ApiKey",
    "ApiToken",
    "AuditChain",
    "AuditEvent",
    "Beneficiary",
    "BeneficiaryImport",
    "BeneficiaryImportRow",
    "BeneficiarySession",
    "BreakGlassGrant",
    "Comune",
    "CopayBand",
    "Ente",
    "FormToken",
    "Fund",
    "Household",
    "IseeRecord",
    "IssueBatch",
    "IssueBatchDocument",
    "IssueBatchRow",
    "LedgerEntry",
    "Notification",
    "NotificationCursor",
    "Provider",
    "RateLimitCounter",
    "Scheme",
    "Service",
    "SiussFlow",
    "SiussOutcome",
    "SiussPrestazione",
    "Statement",
    "StatementInvoice",
    "StatementLine",
    "TeamComune",
    "User",
    "Voucher",
    "VoucherCompetence",
    "VoucherCoverage",
    "scheme_provider",
    "scheme_service",
]
