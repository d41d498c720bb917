"""Reach by team: which beneficiaries and vouchers a social worker sees and acts on.

A social worker serves some of the ente's Comuni (`team_comune`). They see:
- the people who live in one of them, who live outside the ente's Comuni (no team serves
  them), or who hold a voucher charged to one of them;
- the vouchers charged to one of them (`Voucher.comune_id`, the Comune of competence).
Anything else is as if it did not exist (404 on pages and API), unless they ask for
break-glass access to that one record with a reason: it lasts until the end of the day, is
an `access.break_glass` event of the audit trail and shows in the admin's weekly report. A
break-glass access to a person opens their vouchers too.

A social worker with no Comune assigned sees every Comune, as before teams existed (so an
installation keeps working until the admin assigns them); the admin, the auditor and the
other roles keep the whole view.
"""

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Select, delete, exists, or_, select
from sqlalchemy.sql.elements import ColumnElement

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import Beneficiary, BreakGlassGrant, Comune, TeamComune, User, Voucher
from . import Actor, audit, clock

MIN_REASON = 10
MAX_REASON = 500
MAX_REPORT_DAYS = 366
REASON_TOO_SHORT = f"Indicare il motivo dell'accesso (almeno {MIN_REASON} caratteri)."
REASON_TOO_LONG = f"Il motivo può avere al massimo {MAX_REASON} caratteri."


# The team


def team_comuni(user: User) -> list[Comune]:
    """The Comuni assigned to a user, by name (empty: every Comune)."""
    return list(
        db.session.execute(
            select(Comune)
            .join(TeamComune, TeamComune.comune_id == Comune.id)
            .where(TeamComune.user_id == user.id)
            .order_by(Comune.name)
        ).scalars()
    )


def set_team(actor: Actor, user: User, comune_ids: list[int]) -> list[Comune]:
    """Assign a social worker's Comuni (none: every Comune); only the ente's Comuni."""
    if user.role != "social_worker":
        raise Conflict("Solo agli assistenti sociali si assegnano dei Comuni.")
    wanted = sorted(set(comune_ids))
    comuni = list(
        db.session.execute(
            select(Comune).where(Comune.id.in_(wanted), Comune.ente_id.is_not(None))
        ).scalars()
    )
    if len(comuni) != len(wanted):
        raise ValidationFailed(errors={"comuni": ["Scegliere solo Comuni serviti dall'ente."]})
    db.session.execute(delete(TeamComune).where(TeamComune.user_id == user.id))
    db.session.add_all(TeamComune(user_id=user.id, comune_id=c.id) for c in comuni)
    db.session.flush()
    codes = sorted(c.istat_code for c in comuni)
    audit.record(actor, "user.team_set", "user", user.id, comuni=codes)
    return sorted(comuni, key=lambda c: c.name)


# What is in reach


def _granted(actor: Actor, kind: str):
    """The ids of the records of `kind` the actor holds a break-glass access to now."""
    return select(BreakGlassGrant.object_id).where(
        BreakGlassGrant.user_id == actor.user_id,
        BreakGlassGrant.object_type == kind,
        BreakGlassGrant.expires_at > clock.now(),
    )


def beneficiary_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The people the actor sees, as a condition on Beneficiary; None: everyone."""
    team = actor.team
    if team is None:
        return None
    ids = sorted(team)
    return or_(
        Beneficiary.comune_id.in_(ids),
        Beneficiary.comune_id.in_(select(Comune.id).where(Comune.ente_id.is_(None))),
        exists().where(Voucher.beneficiary_id == Beneficiary.id, Voucher.comune_id.in_(ids)),
        Beneficiary.id.in_(_granted(actor, "beneficiary")),
    )


def voucher_clause(actor: Actor) -> ColumnElement[bool] | None:
    """The vouchers the actor sees, as a condition on Voucher; None: every voucher."""
    team = actor.team
    if team is None:
        return None
    return or_(
        Voucher.comune_id.in_(sorted(team)),
        Voucher.id.in_(_granted(actor, "voucher")),
        Voucher.beneficiary_id.in_(_granted(actor, "beneficiary")),
    )


def within_reach(actor: Actor, query: Select, model: type[Beneficiary | Voucher]) -> Select:
    """A query of people or vouchers, narrowed to those the actor sees."""
    clause = voucher_clause(actor) if model is Voucher else beneficiary_clause(actor)
    return query if clause is None else query.where(clause)


def sees_beneficiary(actor: Actor, person: Beneficiary) -> bool:
    """Whether the actor may see and act on this person."""
    clause = beneficiary_clause(actor)
    if clause is None or person.comune_id in actor.team:
        return True
    return db.session.execute(
        select(exists().where(Beneficiary.id == person.id, clause))
    ).scalar_one()


def sees_voucher(actor: Actor, voucher: Voucher) -> bool:
    """Whether the actor may see and act on this voucher."""
    clause = voucher_clause(actor)
    if clause is None or voucher.comune_id in actor.team:
        return True
    return db.session.execute(select(exists().where(Voucher.id == voucher.id, clause))).scalar_one()


def sees(actor: Actor, record: Beneficiary | Voucher) -> bool:
    """sees_beneficiary or sees_voucher, by the record's kind."""
    if isinstance(record, Voucher):
        return sees_voucher(actor, record)
    return sees_beneficiary(actor, record)


def keep_beneficiaries(actor: Actor, people: list[Beneficiary]) -> list[Beneficiary]:
    """The people of a list the actor sees, in order (one query)."""
    clause = beneficiary_clause(actor)
    if clause is None or not people:
        return list(people)
    ids = [p.id for p in people]
    seen = set(
        db.session.execute(select(Beneficiary.id).where(Beneficiary.id.in_(ids), clause)).scalars()
    )
    return [p for p in people if p.id in seen]


def keep_vouchers(actor: Actor, vouchers: list[Voucher]) -> list[Voucher]:
    """The vouchers of a list the actor sees, in order (one query)."""
    clause = voucher_clause(actor)
    if clause is None or not vouchers:
        return list(vouchers)
    ids = [v.id for v in vouchers]
    seen = set(db.session.execute(select(Voucher.id).where(Voucher.id.in_(ids), clause)).scalars())
    return [v for v in vouchers if v.id in seen]


def may_charge(actor: Actor, comune: Comune, person: Beneficiary) -> bool:
    """Whether the actor may charge a new voucher for this person to this Comune: one of
    their Comuni, or any Comune while they hold a break-glass access to the person."""
    team = actor.team
    if team is None or comune.id in team:
        return True
    return db.session.execute(
        select(
            exists().where(
                Beneficiary.id == person.id, Beneficiary.id.in_(_granted(actor, "beneficiary"))
            )
        )
    ).scalar_one()


# Break-glass


def kind_of(record: Beneficiary | Voucher) -> str:
    return "voucher" if isinstance(record, Voucher) else "beneficiary"


def end_of_day(moment: datetime) -> datetime:
    """Midnight after `moment` in Italy, in UTC (SQLite keeps times as naive UTC): a
    break-glass access lasts the rest of the day."""
    day = moment.astimezone(clock.ROME).date() + timedelta(days=1)
    return datetime.combine(day, time.min, tzinfo=clock.ROME).astimezone(UTC)


def break_glass(actor: Actor, record: Beneficiary | Voucher, reason: str) -> BreakGlassGrant:
    """Open one record outside the social worker's Comuni until the end of the day. The
    reason is kept in the grant and in the audit event: it must say why, not whom."""
    if actor.user_id is None:
        raise Conflict("L'accesso straordinario è un atto di una persona.")
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise ValidationFailed(errors={"reason": [REASON_TOO_SHORT]})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(errors={"reason": [REASON_TOO_LONG]})
    now = clock.now()
    grant = BreakGlassGrant(
        user_id=actor.user_id,
        object_type=kind_of(record),
        object_id=record.id,
        reason=reason,
        granted_at=now,
        expires_at=end_of_day(now),
    )
    db.session.add(grant)
    db.session.flush()
    audit.record(
        actor,
        "access.break_glass",
        grant.object_type,
        record.id,
        reason=reason,
        until=grant.expires_at.isoformat(),
    )
    return grant


def grant_in_use(actor: Actor, record: Beneficiary | Voucher) -> BreakGlassGrant | None:
    """The break-glass access through which the actor sees this record, if it is outside
    their Comuni and one is open (the newest)."""
    if actor.team is None or actor.user_id is None:
        return None
    if isinstance(record, Voucher):
        if record.comune_id in actor.team:
            return None
        targets = [("voucher", record.id), ("beneficiary", record.beneficiary_id)]
    else:
        if record.comune_id in actor.team:
            return None
        targets = [("beneficiary", record.id)]
    return db.session.execute(
        select(BreakGlassGrant)
        .where(
            BreakGlassGrant.user_id == actor.user_id,
            or_(
                *(
                    (BreakGlassGrant.object_type == kind) & (BreakGlassGrant.object_id == ident)
                    for kind, ident in targets
                )
            ),
            BreakGlassGrant.expires_at > clock.now(),
        )
        .order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def break_glass_report(days: int = 7, now: datetime | None = None) -> list[BreakGlassGrant]:
    """The break-glass accesses granted in the last `days` days, newest first."""
    since = (now or clock.now()) - timedelta(days=min(max(1, days), MAX_REPORT_DAYS))
    return list(
        db.session.execute(
            select(BreakGlassGrant)
            .where(BreakGlassGrant.granted_at >= since)
            .order_by(BreakGlassGrant.granted_at.desc(), BreakGlassGrant.id.desc())
        ).scalars()
    )
