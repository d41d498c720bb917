"""The identity provider's Response, checked before anyone is signed in.

pysaml2 verifies the signature of the assertion against the identity provider's metadata,
that the Response answers the request we sent (InResponseTo), its Destination and
Recipient, the Audience and the validity window (NotBefore, NotOnOrAfter, with
SPID_CLOCK_SKEW_SECONDS of tolerance). The SPID "Regole tecniche" add checks of their own,
made here on the parsed Response: the issuer is the identity provider we asked, in the
entity format; the times are those of a response issued now, after our request; the
NameID is transient and qualified; the SubjectConfirmation names our ACS and request; the
level obtained is at least the level asked for. A failure of any kind is a SignInFailed,
never an exception left to the caller.
"""

import base64
import logging
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime

import saml2
from saml2 import samlp
from saml2.response import StatusError
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_TRANSIENT

from .errors import SignInFailed, code_of_status_message
from .federations import LEVELS, Federation
from .organization import Organization
from .saml import client

logger = logging.getLogger(__name__)
_LEVEL_OF = {uri: level for level, uri in LEVELS.items()}
_MAX_RESPONSE = 200_000  # characters of base64: a SPID response is a few kilobytes


@dataclass(frozen=True)
class Identity:
    """The person the identity provider vouched for."""

    fiscal_code: str
    first_name: str
    last_name: str
    idp: str
    level: int
    session_index: str | None
    name_id: str
    name_id_qualifier: str | None


@dataclass(frozen=True)
class Expected:
    """What the answer must match: our request's ID, the provider and the level asked."""

    request_id: str
    idp: str
    issued_at: datetime


def peek(encoded: str) -> tuple[str | None, str | None]:
    """The InResponseTo and Issuer a response claims, before anything is verified: what
    names the request it answers (voucher.spid.pending)."""
    if not encoded or len(encoded) > _MAX_RESPONSE:
        raise SignInFailed("invalid", "missing or oversized SAMLResponse")
    try:
        xml = base64.b64decode(encoded, validate=False).decode()
        response = samlp.response_from_string(xml)
    except Exception as error:  # noqa: BLE001 - not base64, not UTF-8, not XML, not SAML
        raise SignInFailed("invalid", f"unreadable SAMLResponse: {error}") from error
    if response is None:
        raise SignInFailed("invalid", "not a SAML Response")
    issuer = (response.issuer.text or "").strip() if response.issuer is not None else None
    return response.in_response_to, issuer


def read_response(
    fed: Federation, organization: Organization, encoded: str, expected: Expected
) -> Identity:
    """The identity in an HTTP-POST SAMLResponse, or SignInFailed."""
    sp = client(fed, organization)
    try:
        parsed = sp.parse_authn_request_response(
            encoded, saml2.BINDING_HTTP_POST, outstanding={expected.request_id: "/"}
        )
    except StatusError as error:
        _release(error)
        raise SignInFailed(code_of_status_message(str(error)), str(error)) from None
    except Exception as error:  # noqa: BLE001 - pysaml2 raises dozens of kinds; all refuse
        _release(error)
        raise SignInFailed("invalid", f"{type(error).__name__}: {error}") from None
    if parsed is None:
        raise SignInFailed("invalid", "the response did not verify")
    # pysaml2 keeps every identity it sees in the client's memory; the session is ours.
    sp.users.remove_person(parsed.name_id)
    _check_spid_rules(fed, parsed, expected)
    return _identity(parsed, expected)


def _release(error: Exception) -> None:
    """Drop the failed verification's frames at once: their locals hold pysaml2's temporary
    certificate files, which would otherwise wait for the garbage collector to close."""
    traceback.clear_frames(error.__traceback__)


def _fail(reason: str):
    raise SignInFailed("invalid", reason)


def _instant(text: str | None) -> datetime:
    if not text:
        _fail("a required instant is missing")
    for pattern in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    _fail(f"not a UTC instant: {text!r}")


def _check_issuer(issuer, idp: str, what: str) -> None:
    if issuer is None or (issuer.text or "").strip() != idp:
        _fail(f"{what} issuer is not the identity provider asked")
    if issuer.format is not None and issuer.format != NAMEID_FORMAT_ENTITY:
        _fail(f"{what} issuer format is {issuer.format!r}")


def _check_times(fed: Federation, response, assertion, expected: Expected) -> None:
    now = datetime.now(UTC)
    skew = fed.clock_skew
    asked = expected.issued_at
    for what, text in (
        ("Response", response.issue_instant),
        ("Assertion", assertion.issue_instant),
    ):
        issued = _instant(text)
        if (issued - asked).total_seconds() < -skew or (issued - now).total_seconds() > skew:
            _fail(f"{what} IssueInstant {text} is not between the request and now")
    conditions = assertion.conditions
    if conditions is None:
        _fail("the assertion has no Conditions")
    if not conditions.not_before or not conditions.not_on_or_after:
        _fail("Conditions without NotBefore or NotOnOrAfter")
    if (_instant(conditions.not_before) - now).total_seconds() > skew:
        _fail("Conditions NotBefore is in the future")
    if (now - _instant(conditions.not_on_or_after)).total_seconds() > skew:
        _fail("Conditions NotOnOrAfter has passed")
    for statement in assertion.authn_statement:
        if (_instant(statement.authn_instant) - now).total_seconds() > skew:
            _fail("AuthnInstant is in the future")


def _check_subject(fed: Federation, assertion, expected: Expected) -> None:
    subject = assertion.subject
    name_id = subject.name_id if subject is not None else None
    if name_id is None or not (name_id.text or "").strip():
        _fail("the assertion has no NameID")
    if name_id.format != NAMEID_FORMAT_TRANSIENT or not name_id.name_qualifier:
        _fail("NameID is not transient and qualified")
    if not subject.subject_confirmation:
        _fail("no SubjectConfirmation")
    for confirmation in subject.subject_confirmation:
        if confirmation.method != "urn:oasis:names:tc:SAML:2.0:cm:bearer":
            _fail("SubjectConfirmation method is not bearer")
        data = confirmation.subject_confirmation_data
        if data is None:
            _fail("no SubjectConfirmationData")
        if data.recipient != fed.acs_url:
            _fail("SubjectConfirmationData Recipient is not our ACS")
        if data.in_response_to != expected.request_id:
            _fail("SubjectConfirmationData InResponseTo is not our request")
        if not data.not_on_or_after:
            _fail("SubjectConfirmationData without NotOnOrAfter")
        if (datetime.now(UTC) - _instant(data.not_on_or_after)).total_seconds() > fed.clock_skew:
            _fail("SubjectConfirmationData NotOnOrAfter has passed")


def _check_audience(fed: Federation, assertion) -> None:
    restrictions = assertion.conditions.audience_restriction
    audiences = [(a.text or "").strip() for r in restrictions or [] for a in r.audience or []]
    if not audiences or fed.entity_id not in audiences:
        _fail("the assertion is not for this service provider")


def _level(assertion, fed: Federation) -> int:
    statements = assertion.authn_statement
    if len(statements) != 1 or statements[0].authn_context is None:
        _fail("not exactly one AuthnStatement with an AuthnContext")
    ref = statements[0].authn_context.authn_context_class_ref
    level = _LEVEL_OF.get((ref.text or "").strip() if ref is not None else "")
    if level is None:
        _fail("AuthnContextClassRef is not a SPID level")
    if level < fed.level:
        _fail(f"level {level} obtained, {fed.level} asked")
    return level


def _check_spid_rules(fed: Federation, parsed, expected: Expected) -> None:
    response = parsed.response
    if response.version != "2.0" or response.in_response_to != expected.request_id:
        _fail("Response version or InResponseTo")
    if response.destination != fed.acs_url:
        _fail("Response Destination is not our ACS")
    _check_issuer(response.issuer, expected.idp, "Response")
    if len(response.assertion) != 1:
        _fail("not exactly one assertion")
    assertion = response.assertion[0]
    if assertion.version != "2.0" or not assertion.id:
        _fail("Assertion version or ID")
    if assertion.issuer is None or assertion.issuer.format != NAMEID_FORMAT_ENTITY:
        _fail("Assertion issuer without the entity format")
    _check_issuer(assertion.issuer, expected.idp, "Assertion")
    _check_times(fed, response, assertion, expected)
    _check_subject(fed, assertion, expected)
    _check_audience(fed, assertion)
    _level(assertion, fed)
    if not assertion.attribute_statement or not any(
        s.attribute for s in assertion.attribute_statement
    ):
        _fail("no AttributeStatement")


def _attributes(assertion) -> dict[str, str]:
    """The SPID attributes of the (verified) assertion by their own names: read here rather
    than through pysaml2's attribute maps, which know other vocabularies."""
    found = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            values = [(v.text or "").strip() for v in attribute.attribute_value]
            if attribute.name and values:
                found.setdefault(attribute.name, values[0])
    return found


def fiscal_code_of(value: str) -> str:
    """The codice fiscale in a SPID fiscalNumber ("TINIT-<code>"), upper case."""
    value = (value or "").strip().upper()
    return value.removeprefix("TINIT-")


def _identity(parsed, expected: Expected) -> Identity:
    assertion = parsed.response.assertion[0]
    attributes = _attributes(assertion)
    fiscal_code = fiscal_code_of(attributes.get("fiscalNumber", ""))
    if not fiscal_code or not fiscal_code.isalnum() or len(fiscal_code) != 16:
        raise SignInFailed("no_fiscal_code", "no usable fiscalNumber")
    statement = assertion.authn_statement[0]
    name_id = assertion.subject.name_id
    return Identity(
        fiscal_code=fiscal_code,
        first_name=attributes.get("name", ""),
        last_name=attributes.get("familyName", ""),
        idp=expected.idp,
        level=_LEVEL_OF[statement.authn_context.authn_context_class_ref.text.strip()],
        session_index=statement.session_index,
        name_id=name_id.text.strip(),
        name_id_qualifier=name_id.name_qualifier,
    )
