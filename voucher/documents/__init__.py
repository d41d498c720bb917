"""Documents: signed QR payloads, QR images and the printable voucher letters."""
