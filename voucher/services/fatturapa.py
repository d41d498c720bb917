"""Reading a FatturaPA invoice (format FPA12) that a provider sent through SDI.

a38 parses and checks the document; a CAdES-signed `.p7m` envelope is opened with a38's P7M
first. The XML is parsed with defusedxml (no DTD, no entities) before a38 reads the tree.
What is kept is what the ente checks: number, date, seller, CUP, taxable amount, VAT and
what the invoice says of the VAT treatment (an exemption or a rate is the provider's
statement, never computed here).
"""

import binascii
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

import a38.fattura as a38
from a38.crypto import P7M
from a38.validation import Validation
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from ..errors import ValidationFailed

# Invoices that bill a service: fattura, parcella, fattura differita. A credit note (TD04)
# or a debit note (TD05) does not pay a statement.
INVOICE_TYPES = frozenset({"TD01", "TD06", "TD24", "TD25"})
# Natura codes the ente meets on social services, for the VAT note shown beside the figures.
NATURE_LABELS = {
    "N1": "escluse art. 15",
    "N2": "non soggette",
    "N2.1": "non soggette",
    "N2.2": "non soggette",
    "N3": "non imponibili",
    "N4": "esenti",
    "N5": "regime del margine",
    "N6": "inversione contabile",
}


@dataclass(frozen=True)
class Invoice:
    number: str
    issued_on: date
    document_type: str
    seller_country: str
    seller_vat_number: str
    cup: str | None
    taxable_cents: int
    vat_cents: int
    vat_treatment: str

    @property
    def total_cents(self) -> int:
        return self.taxable_cents + self.vat_cents


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={"document": [message]})


def _cents(amount, what: str) -> int:
    try:
        value = Decimal(str(amount)) * 100
        if value != value.to_integral_value():
            raise InvalidOperation
        return int(value)
    except (InvalidOperation, ValueError, TypeError):
        raise _refuse(f"Importo non valido in {what}: {amount!r}.") from None


def _xml_of(document: bytes) -> bytes:
    """The XML inside `document`: itself, or the content of a signed `.p7m` envelope (DER,
    or DER in base64 as some channels deliver it)."""
    head = document.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return document
    try:
        payload = P7M(document).get_payload()
    except (ValueError, TypeError, RuntimeError, binascii.Error, KeyError):
        raise _refuse(
            "Il documento non è un XML FatturaPA né una busta firmata .p7m che lo contenga."
        ) from None
    if not isinstance(payload, bytes):
        raise _refuse("La busta .p7m non contiene il documento firmato.")
    return payload


def _fattura(xml: bytes):
    try:
        root = fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise _refuse(f"XML non leggibile: {error}.") from None
    try:
        fattura = a38.auto_from_etree(root)
    except RuntimeError:
        raise _refuse("Il documento XML non è una FatturaPA.") from None
    except (ValueError, TypeError, AttributeError, KeyError, InvalidOperation) as error:
        raise _refuse(f"FatturaPA non leggibile: {error}.") from None
    if not isinstance(fattura, a38.FatturaPA12):
        raise _refuse(
            "Il documento non è nel formato FatturaPA verso la pubblica amministrazione (FPA12)."
        )
    return fattura


def _validated(fattura) -> None:
    result = Validation()
    try:
        fattura.validate(result)
    except (ValueError, TypeError, AttributeError) as error:
        raise _refuse(f"FatturaPA non valida: {error}.") from None
    if result.errors:
        messages = [str(error) for error in result.errors[:5]]
        raise ValidationFailed(
            "FatturaPA non valida: " + "; ".join(messages), errors={"document": messages}
        )


def _cups(general) -> set[str]:
    """The CUP codes the invoice names, in any of the references where FatturaPA puts one."""
    cups = set()
    for references in (
        general.dati_ordine_acquisto,
        general.dati_contratto,
        general.dati_convenzione,
        general.dati_ricezione,
        general.dati_fatture_collegate,
    ):
        for reference in references:
            if reference.codice_cup:
                cups.add(str(reference.codice_cup).strip().upper())
    return cups


def _vat_treatment(summaries) -> str:
    notes = []
    for summary in summaries:
        rate = Decimal(str(summary.aliquota_iva or 0))
        if rate:
            note = f"IVA {rate.normalize():f} %"
        else:
            nature = summary.natura or ""
            note = f"{nature} {NATURE_LABELS.get(nature, '')}".strip()
            if summary.riferimento_normativo:
                note += f" ({summary.riferimento_normativo})"
        if note not in notes:
            notes.append(note)
    return "; ".join(notes)[:200]


def read_invoice(document: bytes) -> Invoice:
    """The invoice in `document` (FatturaPA XML, or its signed .p7m); ValidationFailed when
    it is malformed, not a FatturaPA, or not one invoice that bills a service."""
    if not document or not document.strip():
        raise _refuse("Nessun documento ricevuto.")
    fattura = _fattura(_xml_of(document))
    _validated(fattura)
    bodies = list(fattura.fattura_elettronica_body)
    if len(bodies) != 1:
        raise _refuse(
            f"Il file contiene {len(bodies)} fatture: caricarne una per file, "
            "una per rendiconto e CUP."
        )
    body = bodies[0]
    general = body.dati_generali.dati_generali_documento
    if general.tipo_documento not in INVOICE_TYPES:
        raise _refuse(
            f"Tipo di documento {general.tipo_documento}: si accettano fatture e parcelle, "
            "non note di credito o di debito."
        )
    if (general.divisa or "EUR") != "EUR":
        raise _refuse(f"La fattura è in {general.divisa}: i rendiconti sono in euro.")
    cups = _cups(body.dati_generali)
    if len(cups) > 1:
        raise _refuse(
            "La fattura indica più CUP (" + ", ".join(sorted(cups)) + "): ne serve una per CUP."
        )
    summaries = list(body.dati_beni_servizi.dati_riepilogo)
    if not summaries:
        raise _refuse("La fattura non ha il riepilogo per aliquota IVA (DatiRiepilogo).")
    seller = fattura.fattura_elettronica_header.cedente_prestatore.dati_anagrafici
    number = str(general.numero).strip()
    if not number or len(number) > 20:
        raise _refuse("Numero della fattura mancante o troppo lungo.")
    return Invoice(
        number=number,
        issued_on=general.data,
        document_type=general.tipo_documento,
        seller_country=str(seller.id_fiscale_iva.id_paese or "").upper(),
        seller_vat_number=str(seller.id_fiscale_iva.id_codice or "").strip(),
        cup=next(iter(cups), None),
        taxable_cents=sum(_cents(s.imponibile_importo, "ImponibileImporto") for s in summaries),
        vat_cents=sum(_cents(s.imposta or 0, "Imposta") for s in summaries),
        vat_treatment=_vat_treatment(summaries),
    )
