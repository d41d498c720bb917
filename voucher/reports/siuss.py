"""The SIUSS PS flow (INPS, PS_PSA_SINA201812.xsd) of any period, as a report: one
Beneficiario per person, one PrestazioniSociali per voucher with activity in the period.
How each prestazione is filled: voucher.services.siuss_activity."""

from datetime import date

from ..services.siuss_activity import VoucherActivity, ente_block, voucher_activities


def group_by_person(activities: list[VoucherActivity]) -> list[dict]:
    """Beneficiario blocks: the person's data and their prestazioni."""
    people: dict[int, dict] = {}
    for activity in activities:
        person = people.setdefault(activity.beneficiary_id, {**activity.person, "prestazioni": []})
        person["prestazioni"].append(activity.prestazione)
    return list(people.values())


def flow_name(ente: dict, start: date, end: date) -> str:
    """IdentificazioneFlusso/@Nome (at most 50 characters)."""
    return f"{ente['Codice']}.PS.{start:%Y%m%d}-{end:%Y%m%d}"


def siuss_report(start: date, end: date) -> dict:
    """GET /reports/siuss: the data of the PS flow of [start, end], for the XML renderer."""
    ente = ente_block()
    activities = voucher_activities(start, end)
    return {
        "from": start,
        "to": end,
        "flow_name": flow_name(ente, start, end),
        "ente": ente,
        "beneficiaries": group_by_person(activities),
        "prestazioni": len(activities),
        "public_cents": sum(a.public_cents for a in activities),
        "copay_cents": sum(a.copay_cents for a in activities),
    }
