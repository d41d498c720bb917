"""The SIUSS report's flow as a file: the XML built by voucher.documents.siuss_xml, which
the stored monthly flows (voucher.services.siuss) share."""

from ...documents.siuss_xml import build_flow


def render_flow(data: dict) -> bytes:
    """The flow of a SIUSS report's data (voucher.reports.siuss.siuss_report)."""
    return build_flow(data["flow_name"], data["ente"], data["beneficiaries"])


def flow_filename(data: dict) -> str:
    """The file name of a SIUSS report's flow: its period."""
    return f"siuss_ps_{data['from']:%Y%m%d}_{data['to']:%Y%m%d}.xml"
