"""The social workers' pages: beneficiaries, vouchers one at a time, and bulk issuance.

Personal data never travels in a URL: beneficiaries are found with a POST form and their
pages are addressed by numeric id; vouchers by id as well.
"""

# The views register their routes on the blueprint when imported.
from . import (  # noqa: F401
    batches,
    beneficiaries,
    break_glass,
    caseload,
    competence,
    imports,
    isee,
    notifications,
    vouchers,
)
from .blueprint import bp

__all__ = ["bp"]
