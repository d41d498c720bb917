"""SIUSS flows for INPS's WaaS pull API: generated per month, stored, collected by INPS with
`GET /flussi?since=` and acknowledged with `POST /esiti`.

INPS accepts one beneficiary and one prestazione per flow in this channel, so a month yields
one flow per voucher with activity. Generating a month again after late entries or reversals
changes nothing for the vouchers whose figures are unchanged; for each voucher whose figures
changed it adds a cancelling flow (TipoOperazione C) of the previous one and a new flow (I);
a voucher whose activity was entirely reversed gets only the cancelling flow.
"""

import base64
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from ..documents.siuss_xml import build_flow
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import SiussFlow, SiussOutcome
from ..periods import Month
from . import Actor, audit, clock
from . import siuss_activity as activity

FLOW_TYPE = "PS_PSA_SINA"
# Any constant works: it names the advisory lock that serialises flow generation.
_GENERATION_LOCK_ID = 7_302_2026


def _next_ids(ente_code: str, count: int) -> tuple[list[str], list[int]]:
    """Flow identifiers CODICE.PS.AAAAMMGG.NNNNNNN (the ente's SIUSS code, a daily
    progressive) and strictly increasing millisecond timestamps, so that INPS's `since`
    never skips a flow."""
    today = clock.now().astimezone(clock.ROME)
    prefix = f"{ente_code}.PS.{today:%Y%m%d}."
    last_id = db.session.execute(
        select(func.max(SiussFlow.id_flusso)).where(
            SiussFlow.id_flusso.startswith(prefix, autoescape=True)
        )
    ).scalar_one()
    first_seq = int(last_id.rsplit(".", 1)[1]) + 1 if last_id else 1
    last_ts = db.session.execute(select(func.max(SiussFlow.ts_ms))).scalar_one() or 0
    start_ts = max(last_ts + 1, int(clock.now().timestamp() * 1000))
    ids = [f"{prefix}{seq:07d}" for seq in range(first_seq, first_seq + count)]
    return ids, [start_ts + i for i in range(count)]


def _active_flows(period: str) -> dict[int, SiussFlow]:
    """The period's insertion flows not yet cancelled, by voucher."""
    cancelled = select(SiussFlow.cancels_id).where(SiussFlow.cancels_id.is_not(None))
    flows = db.session.execute(
        select(SiussFlow).where(
            SiussFlow.period == period,
            SiussFlow.operation == "I",
            SiussFlow.id.not_in(cancelled),
        )
    ).scalars()
    return {flow.voucher_id: flow for flow in flows}


def _flow(ente: dict, period: str, operation: str, id_flusso: str, ts_ms: int, **kw) -> SiussFlow:
    person, attributes = kw.pop("person"), kw.pop("attributes")
    return SiussFlow(
        id_flusso=id_flusso,
        period=period,
        operation=operation,
        ts_ms=ts_ms,
        content={"person": person, "attributes": attributes},
        xml=build_flow(id_flusso, ente, [{**person, "prestazioni": [attributes]}]),
        **kw,
    )


def generate_flows(actor: Actor, month: Month) -> dict:
    """Build and store the flows of a concluded month. Returns how many flows were inserted
    and cancelled, how many vouchers were left unchanged, and how many were withheld because
    their person has been pseudonymised (see voucher.services.retention)."""
    if month >= Month.of(clock.today()):
        raise Conflict(f"Il mese {month.label()} non è ancora concluso.")
    ente = activity.ente_block()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _GENERATION_LOCK_ID})
    period = str(month)
    last_day = month.end - timedelta(days=1)
    current = {a.voucher_id: a for a in activity.voucher_activities(month.start, last_day)}
    previous = _active_flows(period)

    planned: list[dict] = []
    unchanged = withheld = 0
    for voucher_id in sorted(set(current) | set(previous)):
        now, before = current.get(voucher_id), previous.get(voucher_id)
        if now is not None and now.pseudonymised:
            # Retention replaced the person's identity with a pseudonym: a new flow would send
            # the pseudonym to INPS. A flow already sent stays as it is; none is built anew.
            if before is not None:
                unchanged += 1
            else:
                withheld += 1
            continue
        if now and before and before.fingerprint == now.fingerprint():
            unchanged += 1
            continue
        if before is not None:
            planned.append(
                {
                    "operation": "C",
                    "voucher_id": voucher_id,
                    "cancels_id": before.id,
                    "fingerprint": before.fingerprint,
                    "amount_cents": before.amount_cents,
                    "public_cents": before.public_cents,
                    "copay_cents": before.copay_cents,
                    "person": before.content["person"],
                    "attributes": {**before.content["attributes"], "TipoOperazione": "C"},
                }
            )
        if now is not None:
            planned.append(
                {
                    "operation": "I",
                    "voucher_id": voucher_id,
                    "fingerprint": now.fingerprint(),
                    "amount_cents": now.amount_cents,
                    "public_cents": now.public_cents,
                    "copay_cents": now.copay_cents,
                    "person": now.person,
                    "attributes": now.prestazione,
                }
            )

    ids, stamps = _next_ids(ente["Codice"], len(planned))
    for plan, id_flusso, ts_ms in zip(planned, ids, stamps, strict=True):
        db.session.add(_flow(ente, period, id_flusso=id_flusso, ts_ms=ts_ms, **plan))
    db.session.flush()
    summary = {
        "period": period,
        "inserted": sum(1 for p in planned if p["operation"] == "I"),
        "cancelled": sum(1 for p in planned if p["operation"] == "C"),
        "unchanged": unchanged,
        "withheld_pseudonymised": withheld,
    }
    audit.record(actor, "siuss.flows_generated", "siuss_period", period, **summary)
    return summary


def ts_text(ts_ms: int) -> str:
    """A flow's timestamp as ISO 8601 UTC with milliseconds, as in INPS's examples."""
    moment = datetime.fromtimestamp(ts_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def flows_since(since_ms: int, limit: int) -> list[dict]:
    """The WaaS entries after `since` (milliseconds), oldest first."""
    if limit <= 0:
        return []
    ente = activity.ente_block()
    name = ente["Denominazione"]
    flows = db.session.execute(
        select(SiussFlow.id_flusso, SiussFlow.ts_ms, SiussFlow.xml)
        .where(SiussFlow.ts_ms > since_ms)
        .order_by(SiussFlow.ts_ms)
        .limit(limit)
    ).all()
    return [
        {
            "codice_ente": ente["Codice"],
            "denominazione_ente": name,
            "id_flusso": flow.id_flusso,
            "ts_flusso": ts_text(flow.ts_ms),
            "tipo": FLOW_TYPE,
            "flusso": base64.b64encode(flow.xml).decode("ascii"),
        }
        for flow in flows
    ]


def record_outcomes(actor: Actor, outcomes: list[dict]) -> int:
    """Store the outcomes (esiti) INPS posts; all or nothing. An outcome already recorded
    (INPS retries a notification) is not stored twice. Returns how many were new."""
    wanted = {o["id_flusso"] for o in outcomes}
    flows = {
        f.id_flusso: f
        for f in db.session.execute(
            select(SiussFlow).where(SiussFlow.id_flusso.in_(wanted))
        ).scalars()
    }
    errors = {
        f"elenco_esiti.{i}.id_flusso": ["Flusso sconosciuto."]
        for i, o in enumerate(outcomes)
        if o["id_flusso"] not in flows
    }
    errors.update(
        {
            f"elenco_esiti.{i}.tipo": [f"Tipo di flusso non gestito: {o['tipo']}."]
            for i, o in enumerate(outcomes)
            if o["tipo"] != FLOW_TYPE
        }
    )
    if errors:
        raise ValidationFailed("Esiti non validi", errors=errors)
    new = 0
    for o in outcomes:
        flow = flows[o["id_flusso"]]
        if any(_same_outcome(known, o) for known in flow.outcomes):
            continue
        flow.outcomes.append(
            SiussOutcome(
                codice_esito=o["codice_esito"],
                descrizione_esito=(o.get("descrizione_esito") or None),
                id_acquisizione_siuss=(o.get("id_acquisizione_siuss") or None),
                ts_acquisizione=o["ts_acquisizione"],
            )
        )
        new += 1
    db.session.flush()
    if new:
        codes = sorted({o["codice_esito"] for o in outcomes})
        audit.record(actor, "siuss.outcomes_received", "siuss_flow", None, new=new, codes=codes)
    return new


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _same_outcome(known: SiussOutcome, posted: dict) -> bool:
    return (
        known.codice_esito == posted["codice_esito"]
        and _as_utc(known.ts_acquisizione) == _as_utc(posted["ts_acquisizione"])
        and (known.id_acquisizione_siuss or None) == (posted.get("id_acquisizione_siuss") or None)
    )


def latest_outcome(flow: SiussFlow) -> SiussOutcome | None:
    """The newest outcome INPS sent for a flow, or None."""
    return flow.outcomes[-1] if flow.outcomes else None


def list_periods() -> list[dict]:
    """Every generated month: how many flows, and how many of them INPS acknowledged and how."""
    latest = (
        select(SiussOutcome.flow_id, func.max(SiussOutcome.id).label("outcome_id"))
        .group_by(SiussOutcome.flow_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            SiussFlow.period,
            SiussFlow.operation,
            SiussOutcome.codice_esito,
            func.count(SiussFlow.id),
            func.max(SiussFlow.created_at),
        )
        .outerjoin(latest, latest.c.flow_id == SiussFlow.id)
        .outerjoin(SiussOutcome, SiussOutcome.id == latest.c.outcome_id)
        .group_by(SiussFlow.period, SiussFlow.operation, SiussOutcome.codice_esito)
    ).all()
    periods: dict[str, dict] = {}
    for period, operation, code, count, generated_at in rows:
        entry = periods.setdefault(
            period,
            {
                "period": period,
                "flows": 0,
                "inserted": 0,
                "cancelled": 0,
                "pending": 0,
                "outcomes": {},
                "last_generated_at": generated_at,
            },
        )
        entry["flows"] += count
        entry["inserted" if operation == "I" else "cancelled"] += count
        if code is None:
            entry["pending"] += count
        else:
            entry["outcomes"][code] = entry["outcomes"].get(code, 0) + count
        entry["last_generated_at"] = max(entry["last_generated_at"], generated_at)
    return [periods[p] for p in sorted(periods, reverse=True)]


def period_flows(month: Month) -> list[SiussFlow]:
    """A month's flows, oldest first, with their outcomes."""
    return list(
        db.session.execute(
            select(SiussFlow).where(SiussFlow.period == str(month)).order_by(SiussFlow.ts_ms)
        ).scalars()
    )
