"""Reports for the ente (admin, auditor, finance): funds, FSC, Fondo Povertà, provider
statements with their invoices and payment, and the SIUSS flow. Every GET answers JSON, or
a file with `?format=csv|xlsx|pdf`; every report served is recorded in the audit trail (its
name and parameters, never personal data)."""

from flask import Response, request
from flask_smorest import Blueprint

from ..errors import NotFound, ValidationFailed
from ..models import Provider
from ..periods import Month
from ..reports.fsc import fsc_report
from ..reports.funds import fondo_poverta_report, funds_report
from ..reports.liquidation import liquidation_report
from ..reports.render import MIMETYPES, render
from ..reports.siuss import siuss_report
from ..reports.statement import statement_report
from ..services import audit, payments, statements
from .fields import MAX_INT, ProblemSchema
from .schemas_reports import (
    ApproveSchema,
    FondoPovertaReportSchema,
    FscQuerySchema,
    FscReportSchema,
    FundsReportSchema,
    InvoiceQuerySchema,
    InvoiceRecordedSchema,
    LiquidationQuerySchema,
    LiquidationReportSchema,
    MonthQuerySchema,
    PaidSchema,
    SiussQuerySchema,
    StatementSchema,
    YearQuerySchema,
)
from .security import BEARER_SECURITY, current_actor, load_in_reach, requires

blp = Blueprint("api_reports", __name__, description="Report e rendiconti")

STATEMENT = f"/reports/providers/<int(max={MAX_INT}):provider_id>/statement"
PROBLEM = "application/problem+json"


def _files_doc(schema) -> dict:
    """The 200 response of a report: its JSON, or the file chosen with `format`."""
    content = {"application/json": {"schema": schema}}
    for fmt in ("csv", "xlsx", "pdf"):
        content[MIMETYPES[fmt]] = {"schema": {"type": "string", "format": "binary"}}
    return {"responses": {"200": {"content": content}}}


@blp.after_request
def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _record(report_name: str, fmt: str, **params) -> None:
    audit.record(
        current_actor(),
        "report.downloaded",
        "report",
        report_name,
        format=fmt,
        **params,
    )


def _answer(report_name: str, fmt: str, data: dict, **params):
    """The report's JSON, or its file for csv, xlsx and pdf; recorded either way."""
    if fmt == "json":
        _record(report_name, fmt, **params)
        return data
    content, mimetype, filename = render(report_name, fmt, data)
    _record(report_name, fmt, **params)
    return Response(
        content,
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _provider(provider_id: int) -> Provider:
    return load_in_reach(Provider, provider_id, "Fornitore non trovato.")


@blp.route("/reports/funds")
@requires("report.read")
@blp.arguments(YearQuerySchema, location="query")
@blp.response(200, FundsReportSchema)
@blp.doc(security=BEARER_SECURITY, **_files_doc(FundsReportSchema))
def funds(args):
    """Every scheme of the year: budget, committed, redeemed, expired unused, residual.

    committed: value of the vouchers spent or still spendable (the unspent balance of a
    revoked or expired voucher is released); redeemed: public shares net of reversals;
    expired_unused: balance left on expired vouchers; residual: budget − committed."""
    year = args["year"]
    return _answer("funds", args["format"], funds_report(year), year=year)


@blp.route("/reports/fondo-poverta")
@requires("report.read")
@blp.arguments(YearQuerySchema, location="query")
@blp.response(200, FondoPovertaReportSchema)
@blp.doc(security=BEARER_SECURITY, **_files_doc(FondoPovertaReportSchema))
def fondo_poverta(args):
    """Fondo Povertà of an annualità: impegnato (committed) and liquidato (public shares of
    provider statements approved and paid), per scheme and per service."""
    year = args["year"]
    return _answer("fondo-poverta", args["format"], fondo_poverta_report(year), year=year)


@blp.route("/reports/fsc")
@requires("report.read")
@blp.arguments(FscQuerySchema, location="query")
@blp.response(200, FscReportSchema)
@blp.doc(security=BEARER_SECURITY, **_files_doc(FscReportSchema))
def fsc(args):
    """The FSC social-services report: one row per Comune of competence (whose quota pays,
    never the residence) × Table 4 area (A, B, C), from the schemes funded by FSC_OS.

    beneficiaries, vouchers and committed: vouchers of the FSC_OS schemes of that year (a
    replacement voucher is not counted again), for the Comune that holds them today;
    committed shares out each voucher's spending by the Comune of each entry, and its
    unspent balance to the Comune holding it. redeemed (public shares), copay and hours
    (quantities of hourly schemes, hours recorded on euro schemes), net of reversals, for
    the Comune each entry carries, on the `basis`: `cash` (default), the entries with
    service_date in the year whatever their scheme's year; `competence`, every entry of
    the year's vouchers whatever its date. prior_year_beneficiaries and prior_year_hours:
    the same row a year earlier, on the same basis. user_groups counts the same people by
    the monitoring form's user groups, one group per person from their categories: elderly
    → anziani, else disabled → disabili, else minor or fragile parenting → famiglia e
    minori, else inclusion household → povertà, else multiutenza. totals count each person
    once."""
    year, basis = args["year"], args["basis"]
    return _answer("fsc", args["format"], fsc_report(year, basis), year=year, basis=basis)


@blp.route(STATEMENT)
@requires("statement.read")
@blp.arguments(MonthQuerySchema, location="query")
@blp.response(200, StatementSchema)
@blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM)
@blp.doc(security=BEARER_SECURITY, **_files_doc(StatementSchema))
def statement(args, provider_id: int):
    """A provider's monthly statement: one line per ledger entry (reversals negative), net
    totals, and its status (open, approved, paid). An approved statement is frozen: later
    entries dated in its month are carried over into the next open statement."""
    provider = _provider(provider_id)
    month: Month = args["month"]
    data = statement_report(provider, month)
    return _answer("statement", args["format"], data, provider_id=provider.id, month=str(month))


@blp.route(f"{STATEMENT}/approve", methods=["POST"])
@requires("statement.manage")
@blp.arguments(ApproveSchema)
@blp.response(200, StatementSchema)
@blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM)
@blp.doc(security=BEARER_SECURITY)
def approve_statement(data, provider_id: int):
    """Approve (freeze) a provider's concluded month; 409 if already approved."""
    provider = _provider(provider_id)
    month: Month = data["month"]
    statements.approve_statement(current_actor(), provider, month)
    return statement_report(provider, month)


@blp.route(f"{STATEMENT}/paid", methods=["POST"])
@requires("statement.pay")
@blp.arguments(PaidSchema)
@blp.response(200, StatementSchema)
@blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM)
@blp.alt_response(
    409,
    schema=ProblemSchema,
    content_type=PROBLEM,
    description="payment_blocked, with `reasons`: missing_iban, durc_expired, "
    "dedicated_account_missing, invoice_missing, not_approved; or conflict (already paid)",
)
@blp.doc(security=BEARER_SECURITY)
def mark_paid(data, provider_id: int):
    """Record the payment of a statement (reference and date): the ragioneria only.

    Refused with 409 payment_blocked, listing every reason at once in `reasons`, while the
    provider has no IBAN, no DURC valid on `paid_on`, no dedicated-account declaration, an
    amount to invoice has no matching invoice, or the month is not approved."""
    provider = _provider(provider_id)
    month: Month = data["month"]
    payments.mark_paid(current_actor(), provider, month, data["reference"], data["paid_on"])
    return statement_report(provider, month)


INVOICE_TYPES = (
    "application/xml",
    "text/xml",
    "application/pkcs7-mime",
    "application/octet-stream",
)


@blp.route(f"{STATEMENT}/invoices", methods=["POST"])
@requires("invoice.upload")
@blp.arguments(InvoiceQuerySchema, location="query")
@blp.response(201, InvoiceRecordedSchema)
@blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM)
@blp.alt_response(
    422,
    schema=ProblemSchema,
    content_type=PROBLEM,
    description="invoice_mismatch (both figures in `detail`, and in `invoice_cents` and "
    "`expected_cents`), or validation_error for a document that is not a FatturaPA",
)
@blp.doc(
    security=BEARER_SECURITY,
    requestBody={
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string"}},
            "application/pkcs7-mime": {"schema": {"type": "string", "format": "binary"}},
        },
    },
)
def upload_invoice(args, provider_id: int):
    """Record the FatturaPA invoice (FPA12 XML, or its signed .p7m) that the provider sent
    through SDI for the month's statement.

    It is matched to the subtotal with its CUP, or without a CUP to the statement's public
    total; only the public share of `purchase` schemes is invoiced. A difference of more
    than one cent between its taxable amount plus VAT and that figure, a CUP not on the
    statement, or a seller other than the provider → 422 invoice_mismatch. A second invoice
    for an amount already invoiced → 409."""
    provider = _provider(provider_id)
    month: Month = args["month"]
    content_type = (request.mimetype or "").lower()
    if content_type not in INVOICE_TYPES:
        raise ValidationFailed(
            "Inviare il documento come application/xml (o la busta firmata come "
            "application/pkcs7-mime).",
            errors={"document": ["Tipo di contenuto non accettato."]},
        )
    record, subtotal = payments.record_invoice(
        current_actor(),
        provider,
        month,
        request.get_data(cache=False),
        sdi_id=args.get("sdi_id"),
    )
    return {**payments.invoice_view(record), "matches": True, "subtotal": subtotal}


@blp.route("/reports/siuss")
@requires("report.read")
@blp.arguments(SiussQuerySchema, location="query")
@blp.alt_response(404, schema=ProblemSchema, content_type=PROBLEM)
@blp.alt_response(409, schema=ProblemSchema, content_type=PROBLEM)
@blp.doc(
    security=BEARER_SECURITY,
    responses={
        "200": {
            "description": "Flusso SIUSS PS (PS_PSA_SINA201812.xsd)",
            "content": {"application/xml": {"schema": {"type": "string"}}},
        }
    },
)
def siuss(args):
    """The SIUSS PS flow of the period (application/xml): one Beneficiario per person, one
    PrestazioniSociali per voucher with activity. 404 when nothing was delivered in it (the
    schema requires at least one beneficiary); 409 when the ente is not configured."""
    start, end = args["date_from"], args["date_to"]
    data = siuss_report(start, end)
    if not data["beneficiaries"]:
        raise NotFound("Nessuna prestazione nel periodo: il flusso SIUSS sarebbe vuoto.")
    content, mimetype, filename = render("siuss", "xml", data)
    _record("siuss", "xml", date_from=start.isoformat(), date_to=end.isoformat())
    return Response(
        content,
        content_type=mimetype,
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@blp.route("/reports/liquidation")
@requires("report.read")
@blp.arguments(LiquidationQuerySchema, location="query")
@blp.response(200, LiquidationReportSchema)
@blp.doc(security=BEARER_SECURITY, **_files_doc(LiquidationReportSchema))
def liquidation(args):
    """The month's liquidation proposal (proposta di liquidazione): its approved and paid
    statements, one document (group) per fund and CUP; open months are not proposed.

    Each group has one row per provider: partita IVA, codice fiscale, IBAN, public_cents
    (what the ente pays), purchase_cents (of which the provider invoices: the lines of
    `purchase` schemes), the month's invoices for that CUP (with `matches`), and the
    statement's `state`: `paid` (with payment_reference and paid_on), `ready` (nothing
    blocks its payment on payment_date, today) or `blocked` with its `reasons`, the same as
    `…/statement/paid` gives; they concern the whole statement, which is paid at once.
    Group totals and the grand total also split public_cents by state. `fund_code` and
    `cup` keep one fund or one CUP. As a file: XLSX (one sheet per fund and CUP, and a
    summary), PDF (the act, with room for the signature) or CSV (one flat table)."""
    month: Month = args["month"]
    fund_code, cup = args.get("fund_code"), args.get("cup")
    data = liquidation_report(month, fund_code=fund_code, cup=cup)
    params = {"month": str(month)}
    params.update({k: v for k, v in (("fund_code", fund_code), ("cup", cup)) if v})
    return _answer("liquidation", args["format"], data, **params)
