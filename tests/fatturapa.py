"""FatturaPA documents for the tests, built with a38 as a provider's invoicing software would,
and signed `.p7m` envelopes built with cryptography's PKCS#7 (CMS SignedData) builder."""

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import a38.fattura as a38
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID

ENTE_FISCAL_CODE = "00000000000"


def euros(cents: int) -> Decimal:
    return Decimal(cents) / 100


def invoice(
    vat_number: str,
    *,
    lines: list[tuple[int, str | None]] | None = None,
    total_cents: int | None = None,
    cup: str | None = None,
    number: str = "1",
    issued_on: date | None = None,
    document_type: str = "TD01",
    fpa: bool = True,
    buyer_fiscal_code: str = ENTE_FISCAL_CODE,
) -> a38.Fattura:
    """A FatturaPA from the provider with partita IVA `vat_number` to the ente.

    `lines` are (taxable cents, VAT rate or None for exempt N4); `total_cents` alone makes
    one exempt line of that amount, the usual case of a social cooperative (art. 10 n. 27-ter).
    """
    if lines is None:
        lines = [(total_cents, None)]
    fattura = a38.FatturaPA12() if fpa else a38.FatturaPrivati12()
    header = fattura.fattura_elettronica_header
    header.dati_trasmissione.id_trasmittente = a38.IdTrasmittente("IT", vat_number)
    header.dati_trasmissione.progressivo_invio = f"{number[-5:]:0>5}"
    header.dati_trasmissione.codice_destinatario = "UFAB12" if fpa else "0000000"
    header.cedente_prestatore = a38.CedentePrestatore(
        a38.DatiAnagraficiCedentePrestatore(
            a38.IdFiscaleIVA("IT", vat_number),
            anagrafica=a38.Anagrafica(denominazione="Cooperativa sociale di prova"),
            regime_fiscale="RF01",
        ),
        a38.Sede(
            indirizzo="Via Roma",
            numero_civico="1",
            cap="50019",
            comune="Sesto Fiorentino",
            provincia="FI",
            nazione="IT",
        ),
    )
    header.cessionario_committente = a38.CessionarioCommittente(
        a38.DatiAnagraficiCessionarioCommittente(
            codice_fiscale=buyer_fiscal_code,
            anagrafica=a38.Anagrafica(denominazione="Ambito sociale di prova"),
        ),
        a38.Sede(
            indirizzo="Piazza Vittorio Veneto",
            numero_civico="1",
            cap="50019",
            comune="Sesto Fiorentino",
            provincia="FI",
            nazione="IT",
        ),
    )
    body = fattura.fattura_elettronica_body[0]
    body.dati_generali.dati_generali_documento = a38.DatiGeneraliDocumento(
        tipo_documento=document_type,
        divisa="EUR",
        data=issued_on or date.today(),
        numero=number,
        causale=["Prestazioni del rendiconto mensile"],
    )
    if cup:
        body.dati_generali.dati_ordine_acquisto.append(
            a38.DatiOrdineAcquisto(id_documento="Determina 12", codice_cup=cup)
        )
    for taxable, rate in lines:
        line = {
            "descrizione": "Assistenza domiciliare",
            "quantita": 1,
            "unita_misura": "servizio",
            "prezzo_unitario": str(euros(taxable)),
            "aliquota_iva": str(Decimal(rate or "0.00")),
        }
        if rate is None:
            line["natura"] = "N4"
        body.dati_beni_servizi.add_dettaglio_linee(**line)
    body.dati_beni_servizi.build_dati_riepilogo()
    for summary in body.dati_beni_servizi.dati_riepilogo:
        if summary.natura == "N4":
            summary.riferimento_normativo = "Art. 10 n. 27-ter DPR 633/72"
    body.build_importo_totale_documento()
    return fattura


def xml(fattura: a38.Fattura) -> bytes:
    out = io.BytesIO()
    fattura.build_etree().write(out, encoding="utf-8", xml_declaration=True)
    return out.getvalue()


def invoice_xml(vat_number: str, **kwargs) -> bytes:
    return xml(invoice(vat_number, **kwargs))


def p7m(document: bytes) -> bytes:
    """`document` in a CAdES-style signed envelope (CMS SignedData, DER, content attached),
    signed with a throwaway self-signed certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Legale rappresentante")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(document)
        .add_signer(certificate, key, hashes.SHA256())
        .sign(Encoding.DER, [])
    )
