"""Documents: signed QR payloads, QR images, the printable voucher letters and the SIUSS
flows sent to INPS."""
