"""The caseload: the lists of people and of vouchers in the social worker's reach, with
filters, sorting and pages.

Where personal data travels. The filters (a Comune, a scheme, a status, numbers of days,
a balance) are ids, codes and numbers: they go in the query string, so that a filtered
list can be bookmarked, reloaded and paged with plain links. A name is personal data as
much as a codice fiscale: the text search, of either, travels only in the body of a POST,
as the search of beneficiaries always did. A searched list is therefore paged and exported
with POST forms that carry the text back in their body, while the filters stay in the URL.
A GET never searches. Each page read is one audit event naming the people it showed (and
the filters, never the text); an export is one event with its count and filters.
"""

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...errors import DomainError
from ...services import beneficiaries as people
from ...services import caseload, reach, read_audit
from ...services import vouchers as voucher_service
from ..security import current_actor, permission_required
from .blueprint import bp
from .caseload_forms import ExportForm, filter_form
from .forms import SearchForm, VoucherLookupForm


def page_number() -> int:
    return max(1, min(request.args.get("pagina", 1, type=int), caseload.MAX_PAGE))


def searched_text(search: SearchForm) -> str:
    """The text of a valid search sent by POST; none on a GET, whatever its URL says."""
    return search.q.data.strip() if search.validate_on_submit() else ""


def _status(form) -> int:
    return 422 if form.errors else 200


@bp.route("/beneficiari", methods=["GET", "POST"])
@permission_required("beneficiary.manage")
def beneficiaries():
    """The people in reach: filtered from the query string; searched by name or codice
    fiscale from a POST body. A codice fiscale typed in full that belongs to someone
    outside the social worker's Comuni gives that person's id, so that break-glass access
    can be asked for on their page (which shows nothing else)."""
    form = filter_form(caseload.PEOPLE_SORTS)
    search = SearchForm()
    text = searched_text(search)
    filters = form.filters(text)
    actor = current_actor()
    page = caseload.list_people(actor, filters, form.ordina.data, page_number())
    elsewhere = None
    if text and not page.rows:
        exact = people.find_by_fiscal_code("".join(text.split()))
        elsewhere = exact.id if exact and not reach.sees_beneficiary(actor, exact) else None
    purpose = read_audit.search_purpose(text) if text else caseload.PEOPLE_LIST
    ids = [row.person.id for row in page.rows]
    caseload.record_list_read(actor, ids, purpose, filters, outside=elsewhere)
    return render_template(
        "social/beneficiaries.html",
        form=search,
        filters=form,
        args=form.query_args(),
        text=text,
        page=page,
        elsewhere=elsewhere,
        export_form=ExportForm(formdata=None),
    ), _status(form)


@bp.route("/buoni", methods=["GET", "POST"])
@permission_required("voucher.manage")
def vouchers():
    """The vouchers in reach, newest first: filtered from the query string, searched by
    the person's name or codice fiscale from a POST body; and a voucher found by its code."""
    lookup = VoucherLookupForm(formdata=request.form if "code" in request.form else None)
    if "code" in request.form and lookup.validate_on_submit():
        try:
            voucher = voucher_service.get_voucher(lookup.code.data)
        except DomainError:
            lookup.code.errors = [_("Nessun buono con questo codice.")]
        else:
            return redirect(url_for("social.voucher", voucher_id=voucher.id))
    form = filter_form(caseload.VOUCHER_SORTS)
    search = SearchForm(formdata=request.form if "q" in request.form else None)
    text = searched_text(search) if "q" in request.form else ""
    filters = form.filters(text)
    actor = current_actor()
    page = caseload.list_vouchers(actor, filters, form.ordina.data, page_number())
    purpose = read_audit.search_purpose(text) if text else caseload.VOUCHER_LIST
    ids = [v.beneficiary_id for v in page.rows]
    caseload.record_list_read(actor, ids, purpose, filters)
    return render_template(
        "social/vouchers.html",
        form=lookup,
        search=search,
        filters=form,
        args=form.query_args(),
        text=text,
        page=page,
        export_form=ExportForm(formdata=None),
    ), _status(form)


# The files' routes (imported here: this module is the one the blueprint imports).
from . import caseload_export  # noqa: E402, F401
