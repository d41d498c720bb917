"""The domain model, one module per aggregate."""

from .audit import AuditEvent
from .beneficiary import CATEGORIES, Beneficiary, Household
from .catalogue import AREAS, UNITS, Fund, Service, SiussPrestazione
from .ente import Comune, Ente
from .ledger import LedgerEntry
from .provider import Accreditation, ApiKey, Provider
from .scheme import SCHEME_STATUSES, CopayBand, Scheme, scheme_service
from .user import ROLES, ApiToken, User
from .voucher import VOUCHER_STATUSES, Voucher

__all__ = [
    "AREAS",
    "CATEGORIES",
    "ROLES",
    "SCHEME_STATUSES",
    "UNITS",
    "VOUCHER_STATUSES",
    "Accreditation",
    "ApiKey",
    "ApiToken",
    "AuditEvent",
    "Beneficiary",
    "Comune",
    "CopayBand",
    "Ente",
    "Fund",
    "Household",
    "LedgerEntry",
    "Provider",
    "Scheme",
    "Service",
    "SiussPrestazione",
    "User",
    "Voucher",
    "scheme_service",
]
