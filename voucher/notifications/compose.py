"""The text of each notification, in the person's language: a generic subject (nothing
about the service or health), and a short body in Markdown (App IO renders it; the e-mail
sends it as plain text)."""

from dataclasses import dataclass
from datetime import date

from flask_babel import force_locale
from flask_babel import gettext as _

from ..services.money import format_euro
from ..services.wording import N_

# App IO's limits on a message (MessageContent): subject 10–120, markdown 80–10,000.
SUBJECT_MAX = 120
BODY_MIN, BODY_MAX = 80, 10_000


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True)
class Facts:
    """What a message may say: the voucher's code and figures, the provider's name and the
    date of the service; and how to reach the office."""

    kind: str
    voucher_code: str
    balance_cents: int
    valid_until: date
    ente_name: str
    office: str  # phone and hours, or a generic "your Comune's social services"
    service_date: date | None = None
    provider_name: str | None = None
    public_cents: int | None = None
    balance_url: str | None = None


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _subject(facts: Facts) -> str:
    subjects = {
        "issued": _("Il tuo nuovo buono servizio"),
        "redeemed": _("Una prestazione registrata sul tuo buono"),
        "reversed": _("Una prestazione annullata sul tuo buono"),
        "low_balance": _("Il saldo del tuo buono sta finendo"),
        "expiring": _("Il tuo buono scade tra 30 giorni"),
        "revoked": _("Il tuo buono è stato revocato"),
    }
    return f"{subjects[facts.kind]} — {facts.ente_name}"[:SUBJECT_MAX]


# The first paragraph of each kind of message; the placeholders are those of _lead's values.
LEADS = {
    "issued": N_(
        "Ti è stato assegnato il buono servizio %(code)s, valido fino al %(until)s. "
        "Il saldo è %(balance)s."
    ),
    "redeemed": N_(
        "Il %(day)s %(provider)s ha registrato una prestazione sul buono %(code)s: "
        "%(amount)s a carico dell'ente. Il saldo ora è %(balance)s."
    ),
    "reversed": N_(
        "La prestazione del %(day)s di %(provider)s sul buono %(code)s è stata "
        "annullata: %(amount)s tornano sul saldo, che ora è %(balance)s."
    ),
    "low_balance": N_(
        "Sul buono %(code)s restano %(balance)s. Se ti servono altre prestazioni, "
        "parlane con i servizi sociali."
    ),
    "expiring": N_(
        "Il buono %(code)s scade il %(until)s e restano %(balance)s: dopo quella data "
        "non si potrà più usare."
    ),
    "revoked": N_(
        "Il buono %(code)s è stato revocato e non si può più usare. I servizi sociali ti "
        "spiegheranno il motivo."
    ),
}


def _lead(facts: Facts) -> str:
    values = {
        "code": facts.voucher_code,
        "balance": format_euro(facts.balance_cents),
        "until": _day(facts.valid_until),
        "day": _day(facts.service_date) if facts.service_date else "",
        "provider": facts.provider_name or "",
        "amount": format_euro(facts.public_cents or 0),
    }
    return _(LEADS[facts.kind], **values)


def compose(facts: Facts, language: str) -> Message:
    """The message of `facts` in `language` ("it" or "en")."""
    with force_locale(language if language in ("it", "en") else "it"):
        lines = [_lead(facts), ""]
        if facts.kind in ("redeemed", "reversed"):
            lines.append(
                _(
                    "Se non riconosci questa prestazione, chiama subito i servizi sociali: "
                    "%(office)s.",
                    office=facts.office,
                )
            )
        else:
            lines.append(_("Per informazioni: %(office)s.", office=facts.office))
        if facts.balance_url:
            lines += ["", _("Saldo e movimenti: %(url)s", url=facts.balance_url)]
        body = "\n".join(lines)
        subject = _subject(facts)
    if len(body) < BODY_MIN:  # App IO refuses shorter messages
        body = body + "\n\n" + facts.ente_name
    return Message(subject=subject, body=body[:BODY_MAX])
