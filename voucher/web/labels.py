"""What a reader sees for each of the domain's codes: roles, categories, units, areas, sex,
audit events, actor types, report formats, SIUSS operations.

Statuses and ledger kinds are not here: their labels and badge colours live on the enums of
voucher.models.status, which the templates receive (see voucher.web.context).
"""

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "admin": _l("Amministratore dell'ente"),
    "social_worker": _l("Assistente sociale"),
    "provider": _l("Operatore del fornitore"),
    "auditor": _l("Revisore dei conti"),
    "finance": _l("Ragioneria (ufficio finanziario)"),
}

# Why a payment is blocked (voucher.services.payments), as the ragioneria reads it.
PAYMENT_BLOCK_LABELS = {
    "missing_iban": _l("Manca l'IBAN del fornitore"),
    "durc_expired": _l("DURC assente o scaduto alla data di pagamento"),
    "dedicated_account_missing": _l("Manca la dichiarazione del conto dedicato (L. 136/2010)"),
    "invoice_missing": _l("Manca una fattura che corrisponda al rendiconto"),
    "not_approved": _l("Il rendiconto non è ancora approvato"),
}

LEGAL_MODEL_LABELS = {
    "purchase": _l("Acquisto del servizio: il fornitore fattura all'ente la quota pubblica"),
    "contribution": _l("Contributo: la famiglia acquista, l'ente paga il contributo per suo conto"),
}

CATEGORY_LABELS = {
    "elderly_self_sufficient": _l("Anziano autosufficiente"),
    "elderly_dependent": _l("Anziano non autosufficiente"),
    "minor": _l("Minore"),
    "fragile_parenting": _l("Genitorialità fragile"),
    "disabled": _l("Persona con disabilità"),
    "inclusion_household": _l("Nucleo in percorso di inclusione"),
}

REPRESENTATIVE_ROLE_LABELS = {
    "genitore": _l("Genitore"),
    "tutore": _l("Tutore"),
    "amministratore": _l("Amministratore di sostegno"),
    "curatore": _l("Curatore"),
}

UNIT_LABELS = {
    "EUR": _l("Euro (importo della prestazione)"),
    "HOUR": _l("Ore"),
    "MEAL": _l("Pasti"),
    "TRIP": _l("Trasporti"),
    "ACCESS": _l("Accessi"),
}

# A scheme's unit as a word after a number: (one, many), in the reader's language.
UNIT_WORDS = {
    "HOUR": (_l("ora"), _l("ore")),
    "MEAL": (_l("pasto"), _l("pasti")),
    "TRIP": (_l("trasporto"), _l("trasporti")),
    "ACCESS": (_l("accesso"), _l("accessi")),
}

AREA_LABELS = {
    "A": _l("Area A — Anziani a domicilio"),
    "B": _l("Area B — Minori e genitorialità fragile"),
    "C": _l("Area C — Persone con disabilità"),
    "P": _l("Fondo Povertà — Servizi per l'inclusione"),
}

SEX_LABELS = {"F": _l("Femmina"), "M": _l("Maschio")}

# The types of ISEE certificate (DPCM 159/2013).
ISEE_TYPE_LABELS = {
    "ordinario": _l("ISEE ordinario"),
    "sociosanitario": _l("ISEE sociosanitario"),
    "minorenni": _l("ISEE per prestazioni ai minorenni"),
    "corrente": _l("ISEE corrente"),
}

# What a voucher's status means for the family, on the self-service page.
VOUCHER_STATUS_MEANINGS = {
    "active": _l("Il buono si può usare presso i fornitori."),
    "exhausted": _l("Il valore del buono è stato speso tutto: non si può più usare."),
    "expired": _l("Il periodo di validità è finito: il saldo rimasto non si può più spendere."),
    "revoked": _l(
        "L'ente ha annullato il buono: non si può più usare. Per sapere perché, "
        "rivolgiti ai servizi sociali."
    ),
    "suspended": _l(
        "Per ora il buono non si può usare. Per sapere perché e quando tornerà attivo, "
        "rivolgiti ai servizi sociali."
    ),
}

# A provider statement as the reports pages name it: (label, Bootstrap colour).
STATEMENT_STATUS_LABELS = {
    "open": (_l("Aperto"), "secondary"),
    "approved": (_l("Approvato, da pagare"), "warning"),
    "paid": (_l("Pagato"), "success"),
}

# The events of a voucher's trail, on its page.
AUDIT_LABELS = {
    "voucher.issued": _l("Emissione"),
    "voucher.replaced": _l("Emissione in sostituzione"),
    "voucher.revoked": _l("Revoca"),
    "voucher.suspended": _l("Sospensione"),
    "voucher.reactivated": _l("Riattivazione"),
    "voucher.pin_reset": _l("Nuovo PIN"),
    "voucher.pin_locked": _l("Blocco per PIN errati"),
    "voucher.redeemed": _l("Prestazione registrata"),
    "voucher.redemption_reversed": _l("Storno di una prestazione"),
    "voucher.expired": _l("Scadenza"),
    "voucher.transferred": _l("Trasferimento a un altro Comune"),
    "voucher.coverage_changed": _l("Nuova copertura da un ISEE"),
    "voucher.validity_extended": _l("Proroga della validità con la misura"),
    "voucher.read": _l("Consultazione della scheda"),
    "voucher.letter_read": _l("Consultazione della lettera"),
    "voucher.letter_pin_printed": _l("Lettera stampata con il PIN"),
    "voucher.letter_pin_wrong": _l("PIN errato per la stampa della lettera"),
    "voucher.letter_pin_refused": _l("Stampa della lettera bloccata per PIN errati"),
}

# Authors of audit events that are not a user or an API key, as the log's filter offers them.
ACTOR_TYPES = {
    "system": _l("Sistema (procedure automatiche)"),
    "beneficiary": _l("Beneficiario (consultazione del buono)"),
}

ACTOR_TYPE_LABELS = {
    "user": _l("utente"),
    "api_key": _l("chiave API"),
    "system": _l("sistema"),
    "beneficiary": _l("beneficiario"),
}

# Why the audit chain's check failed, by the reason voucher.services.audit_verify gives.
CHAIN_REASONS = {
    "missing event": _l("manca un evento"),
    "previous hash does not match": _l("l'impronta dell'evento precedente non corrisponde"),
    "content altered": _l("il contenuto dell'evento è stato modificato"),
    "the chain's head does not match": _l(
        "la testa della catena non indica l'ultimo evento (eventi finali rimossi?)"
    ),
}

FORMAT_LABELS = {"csv": "CSV", "xlsx": "Excel (XLSX)", "pdf": "PDF"}

# The operation of a SIUSS flow.
OPERATION_LABELS = {"I": _l("Inserimento"), "C": _l("Cancellazione")}

# Notifications to the families (voucher.notifications).
NOTIFICATION_KIND_LABELS = {
    "issued": _l("Buono emesso"),
    "redeemed": _l("Prestazione registrata"),
    "reversed": _l("Prestazione annullata"),
    "low_balance": _l("Saldo in esaurimento"),
    "expiring": _l("Scadenza tra 30 giorni"),
    "revoked": _l("Buono revocato"),
}
NOTIFICATION_CHANNEL_LABELS = {"email": _l("E-mail"), "io": _l("App IO")}
NOTIFICATION_STATUS_LABELS = {
    "pending": (_l("Da inviare"), "secondary"),
    "sending": (_l("In invio"), "secondary"),
    "sent": (_l("Inviata"), "success"),
    "failed": (_l("Non riuscita"), "danger"),
    "skipped": (_l("Non inviata"), "warning"),
}
