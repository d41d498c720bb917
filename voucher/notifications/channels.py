"""The two channels: e-mail through SMTP, and App IO through its services API.

Each `send` returns the provider's id for the message (IO) or None, and raises:
- `Retry` for a failure that may pass (a connection refused, a 5xx, IO's 429 with its
  Retry-After);
- `Skip` when the message must not or cannot be sent (no address, no IO profile, the person
  disabled the ente's service on IO): no further attempt.
"""

import contextlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

import requests
from flask import current_app

TIMEOUT = (5, 15)  # connect, read (seconds)


class Retry(Exception):
    def __init__(self, message: str, after: float | None = None):
        super().__init__(message)
        self.after = after


class Skip(Exception):
    pass


# --- E-mail ------------------------------------------------------------------------------


def message_id(notification_id: int) -> str:
    """The same Message-ID at every attempt: a repeated delivery is one message to a mail
    client."""
    domain = current_app.config.get("MAIL_MESSAGE_ID_DOMAIN") or "buoni.invalid"
    return f"<notification-{notification_id}@{domain}>"


class Mailer:
    """One SMTP connection for several messages (a chunk of deliveries), opened on the
    first message and closed at the end; opened again after a failure."""

    def __init__(self):
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):  # already gone
                self.smtp.quit()
            self.smtp = None

    def _connection(self) -> smtplib.SMTP:
        if self.smtp is None:
            config = current_app.config
            smtp = smtplib.SMTP(
                config["SMTP_HOST"], int(config.get("SMTP_PORT", 25)), timeout=TIMEOUT[1]
            )
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("SMTP_USERNAME"):
                smtp.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
            self.smtp = smtp
        return self.smtp

    def send(self, notification, address: str) -> None:
        config = current_app.config
        if not config.get("SMTP_HOST"):
            raise Skip("SMTP non configurato")
        if not address:
            raise Skip("Nessun indirizzo e-mail")
        email = EmailMessage()
        email["From"] = config["MAIL_FROM"]
        email["To"] = address
        email["Subject"] = notification.subject
        email["Date"] = formatdate(localtime=False)
        email["Message-ID"] = message_id(notification.id)
        email["Content-Language"] = notification.language
        email["Auto-Submitted"] = "auto-generated"
        email.set_content(notification.body)
        try:
            self._connection().send_message(email)
        except smtplib.SMTPRecipientsRefused as refused:
            raise Skip(f"Indirizzo rifiutato dal server: {_smtp_codes(refused)}") from refused
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise Retry(f"SMTP: {type(error).__name__}") from error


def send_email(notification, address: str) -> None:
    """One message on a connection of its own."""
    with Mailer() as mailer:
        mailer.send(notification, address)


def _smtp_codes(refused: smtplib.SMTPRecipientsRefused) -> str:
    return ", ".join(str(code) for code, _ in refused.recipients.values())


# --- App IO ------------------------------------------------------------------------------


class IoClient:
    """The IO services API (https://api.io.pagopa.it/api/v1): `POST /profiles` tells
    whether the person has IO and accepts the service's messages (the fiscal code in the
    body, never in a URL); `POST /messages` submits one. Authenticated by the service's
    subscription key."""

    def __init__(self, base_url: str, api_key: str, session: requests.Session | None = None):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers["Ocp-Apim-Subscription-Key"] = api_key

    def _post(self, path: str, body: dict) -> requests.Response:
        try:
            response = self.session.post(f"{self.base_url}{path}", json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            raise Retry(f"IO: {type(error).__name__}") from error
        if response.status_code == 429:
            raise Retry("IO: 429 Too Many Requests", after=_retry_after(response))
        if response.status_code >= 500:
            raise Retry(f"IO: {response.status_code}")
        return response

    def sender_allowed(self, fiscal_code: str) -> bool:
        response = self._post("/profiles", {"fiscal_code": fiscal_code})
        if response.status_code == 404:
            raise Skip("Nessun profilo IO per la persona")
        if response.status_code != 200:
            raise Retry(f"IO profilo: {response.status_code}")
        return bool(response.json().get("sender_allowed"))

    def submit(self, fiscal_code: str, subject: str, markdown: str) -> str:
        body = {"fiscal_code": fiscal_code, "content": {"subject": subject, "markdown": markdown}}
        response = self._post("/messages", body)
        if response.status_code == 201:
            return str(response.json()["id"])
        if response.status_code in (400, 403, 404):
            raise Skip(f"IO ha rifiutato il messaggio: {response.status_code}")
        raise Retry(f"IO messaggio: {response.status_code}")


def _retry_after(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None


def io_client() -> IoClient:
    config = current_app.config
    if not config.get("IO_API_KEY"):
        raise Skip("App IO non configurata")
    return IoClient(config["IO_API_URL"], config["IO_API_KEY"])


def send_io(notification, fiscal_code: str) -> str:
    client = io_client()
    if not client.sender_allowed(fiscal_code):
        raise Skip("La persona non accetta messaggi da questo servizio su IO")
    return client.submit(fiscal_code, notification.subject, notification.body)
