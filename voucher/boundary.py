"""The boundary of every request: one transaction, and one translation of every error.

Like Indico's request handler, the application owns each request's transaction: the view
runs inside `run_in_transaction`, which commits when it returns, rolls back when it raises,
retries it on a deadlock or a lost idempotency race, and turns a lost race on a unique value
into the domain error the service would have raised. Views never commit.

Errors are translated here once for the whole application: under /api/ into RFC 9457
problem+json (voucher.api.problems), elsewhere into an Italian page (voucher.web.errors).
"""

import contextlib
import copy
import logging

from flask import Flask, current_app, g, make_response, request, session
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    IntegrityError,
    OperationalError,
    PendingRollbackError,
)
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from .db import domain_error_for, run_in_transaction
from .errors import Conflict, DomainError
from .extensions import db

log = logging.getLogger(__name__)


def _lean_view() -> bool:
    rule = request.url_rule
    view = current_app.view_functions.get(rule.endpoint) if rule is not None else None
    return getattr(view, "lean", False)


class VoucherFlask(Flask):
    """Flask, with each view run as one transaction (the request boundary).

    A lean view (the one-statement redemption) gets only the hooks marked every_request:
    who is calling, the security headers, the access log, the background threads' start;
    not the rate limiter (it has no limit), the locale, the CSRF check (bearer tokens) or
    the cookie session, which it does not use."""

    def preprocess_request(self):
        if not _lean_view():
            return super().preprocess_request()
        for hook in self._marked(self.before_request_funcs):
            answer = hook()
            if answer is not None:
                return answer
        return None

    def process_response(self, response):
        if not _lean_view():
            return super().process_response(response)
        for hook in reversed(self._marked(self.after_request_funcs)):
            response = hook(response)
        return response

    def _marked(self, registry) -> list:
        """The marked hooks of the application and of the request's blueprints, in the
        order Flask would run them."""
        names = (None, *reversed(request.blueprints))
        return [
            h
            for name in names
            for h in registry.get(name, ())
            if getattr(h, "every_request", False)
        ]  # noqa: E501

    def dispatch_request(self):
        rule = request.url_rule
        view = self.view_functions.get(rule.endpoint) if rule is not None else None
        if getattr(view, "own_transaction", False):
            # A view that is its own transaction (the one-statement redemption), or hands
            # over to dispatch_in_transaction() itself.
            return super().dispatch_request()
        return self.dispatch_in_transaction(super().dispatch_request)

    def dispatch_in_transaction(self, dispatch):
        """Run `dispatch` (a view) as one transaction, run again on a lost race."""
        # The signed session cookie is part of what a view changes (flash messages, one-time
        # tokens, the signed-in user): a view run again, or one whose work is not kept,
        # starts from, or leaves, the session as it came.
        before = copy.deepcopy(dict(session)) if session else {}
        attempts = 0

        def attempt():
            nonlocal attempts
            attempts += 1
            if attempts > 1:
                _restore_session(before)
                for upload in request.files.values():  # nor find its upload already read
                    upload.stream.seek(0)
            return dispatch()

        try:
            return run_in_transaction(attempt)
        except DomainError as error:
            if not error.keeps_work:
                _restore_session(before)
            raise
        except Exception:
            _restore_session(before)
            raise


def _restore_session(before: dict) -> None:
    if dict(session) != before:
        session.clear()
        session.update(copy.deepcopy(before))
        g.pop("_login_user", None)  # Flask-Login reads the user again from the session


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    """Every error, once: problem+json under /api/, an Italian page elsewhere."""
    from .api.problems import domain_problem, http_problem, problem
    from .web.errors import render_domain_error_page, render_error_page

    def http_error(error: HTTPException):
        if is_api_request():
            return http_problem(error)
        return render_error_page(error)

    def domain_error(error: DomainError):
        if is_api_request():
            return domain_problem(error)
        return render_domain_error_page(error)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(CSRFError, http_error)
    app.register_error_handler(DomainError, domain_error)

    @app.errorhandler(RecursionError)
    def _nested_too_deep(error: RecursionError):
        # The JSON decoder recurses once per level: a body nested past the interpreter's
        # limit is malformed input, not a server fault.
        if is_api_request():
            return problem(400, "bad_request", "Il corpo della richiesta è annidato troppo.")
        return _unexpected(error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        with contextlib.suppress(DBAPIError):  # a lost connection: the pool replaces it
            db.session.rollback()
        if isinstance(error, OperationalError | DisconnectionError | PendingRollbackError) or (
            isinstance(error, DBAPIError) and error.connection_invalidated
        ):
            # The database is unreachable or busy (restarting, failing over, locked), or it
            # dropped the connection under a view that read around the loss (a page drawn
            # without its ente): nothing was written, and the client may retry the same
            # request (same Idempotency-Key).
            log.warning("database unavailable: %s", type(error).__name__)
            response = make_response(http_error(ServiceUnavailable()))
            response.headers["Retry-After"] = "5"
            return response
        if isinstance(error, IntegrityError):
            # A constraint the code did not foresee: the database kept the data whole; the
            # client gets a conflict, not a crash.
            log.warning("integrity error: %s", type(error.orig).__name__)
            return domain_error(domain_error_for(error) or _unforeseen_conflict())
        log.exception("unhandled error")
        return http_error(InternalServerError())


def _unforeseen_conflict() -> DomainError:
    from flask_babel import gettext as _

    error = Conflict(_("L'operazione è in conflitto con dati già registrati. Ricarica e riprova."))
    error.title = _("Conflitto")
    return error
