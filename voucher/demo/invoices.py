"""The demo providers' FatturaPA invoices (format FPA12, to the ente), built with a38 as a
provider's invoicing software would build them."""

import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import a38.fattura as a38

from ..models import Ente, Provider

# The ente's office that receives invoices (codice univoco ufficio, IPA): fictional.
OFFICE_CODE = "UFDEMO"
# A social cooperative invoices its services exempt (art. 10 n. 27-ter DPR 633/72) or, for
# a cooperativa sociale, at 5 %: the invoice says which, the ente never computes it.
EXEMPTION = "Art. 10 n. 27-ter DPR 633/72"


def _euros(cents: int) -> Decimal:
    return Decimal(cents) / 100


def _sede(comune: str) -> a38.Sede:
    return a38.Sede(
        indirizzo="Via Gramsci", numero_civico="12", cap="50019", comune=comune,
        provincia="FI", nazione="IT",
    )  # fmt: skip


def _taxable_for(total_cents: int, vat_percent: int) -> int:
    """The taxable amount whose VAT, rounded half up, brings the invoice nearest `total_cents`."""
    rate = Decimal(vat_percent) / 100

    def total(taxable: int) -> int:
        vat = (Decimal(taxable) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return taxable + int(vat)

    base = int((Decimal(total_cents) / (1 + rate)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return min((base - 1, base, base + 1), key=lambda t: abs(total(t) - total_cents))


def invoice_xml(
    provider: Provider,
    ente: Ente,
    *,
    number: str,
    issued_on: date,
    total_cents: int,
    month_label: str,
    cup: str | None = None,
    vat_percent: int | None = None,
) -> bytes:
    """An invoice of `total_cents` (VAT included) from `provider` to the ente for the month's
    statement, naming the CUP when the amount is a CUP's. Without `vat_percent` it is exempt."""
    fattura = a38.FatturaPA12()
    header = fattura.fattura_elettronica_header
    header.dati_trasmissione.id_trasmittente = a38.IdTrasmittente("IT", provider.vat_number)
    header.dati_trasmissione.progressivo_invio = "".join(c for c in number if c.isalnum())[-10:]
    header.dati_trasmissione.codice_destinatario = OFFICE_CODE
    header.cedente_prestatore = a38.CedentePrestatore(
        a38.DatiAnagraficiCedentePrestatore(
            a38.IdFiscaleIVA("IT", provider.vat_number),
            codice_fiscale=provider.fiscal_code or provider.vat_number,
            anagrafica=a38.Anagrafica(denominazione=provider.name),
            regime_fiscale="RF01",
        ),
        _sede("Firenze"),
    )
    header.cessionario_committente = a38.CessionarioCommittente(
        a38.DatiAnagraficiCessionarioCommittente(
            codice_fiscale=ente.fiscal_code, anagrafica=a38.Anagrafica(denominazione=ente.name)
        ),
        _sede("Sesto Fiorentino"),
    )
    body = fattura.fattura_elettronica_body[0]
    body.dati_generali.dati_generali_documento = a38.DatiGeneraliDocumento(
        tipo_documento="TD01",
        divisa="EUR",
        data=issued_on,
        numero=number,
        causale=[f"Prestazioni con buoni servizio, rendiconto di {month_label}"],
    )
    if cup:
        body.dati_generali.dati_ordine_acquisto.append(
            a38.DatiOrdineAcquisto(id_documento="Accreditamento", codice_cup=cup)
        )
    taxable = total_cents if vat_percent is None else _taxable_for(total_cents, vat_percent)
    line = {
        "descrizione": f"Prestazioni sociali rese con buoni servizio ({month_label})",
        "quantita": 1,
        "unita_misura": "servizio",
        "prezzo_unitario": str(_euros(taxable)),
        "aliquota_iva": f"{vat_percent or 0}.00",
    }
    if vat_percent is None:
        line["natura"] = "N4"
    body.dati_beni_servizi.add_dettaglio_linee(**line)
    body.dati_beni_servizi.build_dati_riepilogo()
    for summary in body.dati_beni_servizi.dati_riepilogo:
        if summary.natura == "N4":
            summary.riferimento_normativo = EXEMPTION
    body.build_importo_totale_documento()
    out = io.BytesIO()
    fattura.build_etree().write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue()
