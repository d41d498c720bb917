"""The finance office's and auditors' pages: the dashboard, the fund and FSC reports, provider
statements (approval and payment), SIUSS flows and the audit-log viewer.

The figures come from voucher.reports, the same functions the reports API calls; the files
(CSV, XLSX, PDF, XML) from voucher.reports.render. Periods travel in the query string as
`year` and `month`: no personal data is ever put in a URL.
"""

# The views register their routes on the blueprint when imported.
from . import audit_log, finance, liquidation, overview, siuss, statements, unfinished  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
