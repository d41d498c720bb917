"""The redemption in one statement (PostgreSQL): lock and read the terms, judge, debit,
write the ledger row and its audit event, so that the accepted case is one round trip (in
autocommit, the statement is the whole transaction).

It accepts exactly what voucher.services.redemption.check_redemption() accepts, restated
as one SQL condition; tests/services/test_redemption_rules_agree.py checks that the two
agree on every combination of the terms. Anything it does not accept (a refusal, a replay,
a revoked key) writes nothing, and the caller asks the rules, on the ordinary path, for
the answer that is due. Its plan is checked on a ledger of a million rows
(tests/ops/test_postgresql_plans.py).
"""

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from sqlalchemy import text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from . import Actor
from .redemption_sql import Redemption, forget_stale_voucher

# Written out rather than composed: the composed statement ran past 4 KB, beyond which the
# database driver converts a query's placeholders afresh at every run (a millisecond of
# CPU); this one stays short. Its terms (t) are redemption_sql.terms_query(lock=True) and
# its conditions (ok) the rules of voucher.services.redemption_rules, condition by
# condition; the tests hold both to them.
_SQL = """
WITH q AS (
  SELECT CAST(:amount AS bigint) AS amount, CAST(:quantity AS numeric) AS qty,
    CAST(:hours AS numeric) AS hours, CAST(:today AS date) AS today,
    CAST(:service_date AS date) AS sd, CAST(:provider AS integer) AS pid,
    CAST(:service AS text) AS svc, CAST(:api_key AS integer) AS kid),
t AS (
  SELECT v.id, v.code, v.status, v.valid_from, v.valid_until, v.balance_cents,
    (SELECT c.coverage_percent FROM voucher_coverage c
      WHERE c.voucher_id = v.id AND c.from_date <= q.sd
      ORDER BY c.from_date DESC, c.id DESC LIMIT 1) AS coverage_percent,
    (SELECT k.comune_id FROM voucher_competence k
      WHERE k.voucher_id = v.id AND k.from_date <= q.sd
      ORDER BY k.from_date DESC, k.id DESC LIMIT 1) AS comune_id,
    s.unit, s.unit_price_cents, s.max_redemption_cents,
    EXISTS (SELECT 1 FROM scheme_service x
      WHERE x.scheme_id = v.scheme_id AND x.service_code = q.svc) AS service_in_scheme,
    (SELECT p.status FROM provider p WHERE p.id = q.pid) AS provider_status,
    EXISTS (SELECT 1 FROM accreditation r
      WHERE r.provider_id = q.pid AND r.service_code = q.svc AND r.valid_from <= q.sd
        AND (r.valid_until IS NULL OR r.valid_until >= q.sd)) AS provider_accredited,
    (NOT EXISTS (SELECT 1 FROM scheme_provider y WHERE y.scheme_id = v.scheme_id)
      OR EXISTS (SELECT 1 FROM scheme_provider y
        WHERE y.scheme_id = v.scheme_id AND y.provider_id = q.pid)) AS provider_listed,
    (q.kid IS NULL OR EXISTS (SELECT 1 FROM api_key z
      WHERE z.id = q.kid AND z.revoked_at IS NULL)) AS key_valid,
    CASE WHEN q.qty IS NULL THEN q.amount
      ELSE CAST(round(q.qty * s.unit_price_cents) AS bigint) END AS cost
  FROM q, voucher v JOIN scheme s ON s.id = v.scheme_id
  WHERE v.code = :voucher_code
  FOR UPDATE OF v),
ok AS (
  SELECT p.id, p.comune_id, p.balance_cents, p.cost,
    (p.cost * p.coverage_percent + 50) / 100 AS public
  FROM t p, q
  WHERE p.key_valid
    AND p.status NOT IN ('revoked', 'suspended', 'expired', 'exhausted')
    AND q.today BETWEEN p.valid_from AND p.valid_until AND p.balance_cents <> 0
    AND p.provider_status = 'active' AND p.provider_accredited AND p.provider_listed
    AND p.service_in_scheme AND q.sd <= q.today AND q.sd BETWEEN p.valid_from AND p.valid_until
    AND ((q.qty IS NULL AND q.amount > 0) OR (q.amount IS NULL AND q.qty > 0
      AND p.unit <> 'EUR' AND p.cost BETWEEN 1 AND 2147483647))
    AND (q.hours IS NULL OR p.unit = 'EUR')
    AND (p.max_redemption_cents IS NULL OR p.cost <= p.max_redemption_cents)
    AND p.coverage_percent IS NOT NULL AND p.comune_id IS NOT NULL
    AND (p.cost * p.coverage_percent + 50) / 100 <= p.balance_cents),
entry AS (
  INSERT INTO ledger_entry (kind, voucher_id, provider_id, service_code, service_date,
    quantity, hours, amount_cents, public_cents, copay_cents, balance_after_cents,
    idempotency_key, created_at, comune_id, request_hash, user_id, api_key_id)
  SELECT 'redemption', p.id, q.pid, q.svc, q.sd, q.qty, q.hours, p.cost, p.public,
    p.cost - p.public, p.balance_cents - p.public, :key, CAST(:created_at AS timestamptz),
    p.comune_id, :request_hash, CAST(:user_id AS integer), q.kid
  FROM q, ok p
  ON CONFLICT (provider_id, idempotency_key) DO NOTHING
  RETURNING id AS entry_id, amount_cents AS e_amount, public_cents AS e_public,
    copay_cents AS e_copay, balance_after_cents AS e_balance, voucher_id),
debited AS (
  UPDATE voucher v SET balance_cents = e.e_balance,
    status = CASE WHEN e.e_balance = 0 THEN 'exhausted' ELSE v.status END
  FROM entry e WHERE v.id = e.voucher_id
  RETURNING v.id),
event AS (
  INSERT INTO audit_event (at, actor_type, actor_id, actor_label, action, object_type,
    object_id, data)
  SELECT CAST(:at AS timestamptz), :actor_type, CAST(:actor_id AS integer), :actor_label,
    'voucher.redeemed', 'voucher', :voucher_code, json_build_object('entry_id', e.entry_id,
      'provider_id', q.pid, 'service', q.svc, 'amount_cents', e.e_amount,
      'public_cents', e.e_public, 'balance_cents', e.e_balance)
  FROM q, entry e)
SELECT e.entry_id, e.e_amount, e.e_public, e.e_copay, e.e_balance, t.id, t.comune_id,
  1 / (SELECT count(*) FROM debited) FROM entry e, t
"""
# A prepared statement keeps the plan it was made with. Tables only grow here (vouchers
# stay, the ledger is append-only), and the plan's lookups are by index, so a plan made on
# tables of more than a page stays right as they grow; one made on a brand-new, tiny
# database might not (an index is then as cheap as another). So the statement is made
# afresh every PLAN_SECONDS, from the tables as they are: its text changes with a comment,
# and the driver prepares it anew (dropping the oldest of the statements it keeps).
PLAN_SECONDS = 60


def planned_sql() -> str:
    """The statement's text for this period: a new prepared statement each period."""
    return f"{_DRIVER_SQL} /* plan {int(time.monotonic() // PLAN_SECONDS)} */"


# The last column divides by the vouchers debited: a ledger row written without its debit
# (it cannot happen: the voucher row is locked from the start) would abort the statement.
# Every data-modifying part runs once and whole, read or not (the audit event's is not).
_ONE_STATEMENT = text(" ".join(_SQL.split()))
# Sent straight to the driver's cursor: the result of one row needs none of the ORM's
# result machinery, which would otherwise cost more than the rest of the request.
_DRIVER_SQL = str(_ONE_STATEMENT.compile(dialect=postgresql.dialect(paramstyle="pyformat")))


def redeem_in_one_statement(
    connection,
    actor: Actor,
    *,
    code: str,
    provider_id: int,
    service_code: str,
    service_date: date,
    amount_cents: int | None,
    quantity: Decimal | None,
    hours: Decimal | None,
    idempotency_key: str,
    request_hash: str,
    today: date,
    created_at: datetime,
) -> Redemption | None:
    """PostgreSQL: the whole redemption in one statement, if the rules accept it; None
    when they do not (or there is no such voucher), and nothing was written. The caller
    has checked the request's own form (an amount or a quantity, positive, two decimals at
    most) and, in a transaction, that no event of it waits for the commit
    (audit.can_append_now()); it commits (and, in a session's transaction, calls
    audit.wrote_event())."""
    params = {
        "voucher_code": code,
        "service": service_code,
        "service_date": service_date,
        "provider": provider_id,
        "api_key": actor.api_key_id,
        "key": idempotency_key,
        "amount": amount_cents,
        "quantity": quantity,
        "hours": hours,
        "today": today,
        "created_at": created_at,
        "request_hash": request_hash,
        "user_id": actor.user_id,
        "at": datetime.now(UTC),
        "actor_type": actor.type,
        "actor_id": actor.id,
        "actor_label": actor.label,
    }
    try:
        with connection.connection.cursor() as cursor:
            # Prepared on the connections made for it (voucher.db.autocommit_engine).
            prepare = connection.info.get("prepare_statements", False)
            cursor.execute(planned_sql() if prepare else _DRIVER_SQL, params, prepare=prepare)
            row = cursor.fetchone()  # read by position: naming the columns costs more
    except psycopg.Error as error:
        # As SQLAlchemy would raise it (an IntegrityError on a lost race for the key, which
        # the request boundary runs again); a lost connection leaves the pool.
        if isinstance(error, psycopg.OperationalError) or connection.connection.closed:
            connection.invalidate()
        raise DBAPIError.instance(_DRIVER_SQL, params, error, psycopg.Error) from None
    if row is None:
        return None
    entry_id, amount, public, copay, balance, voucher_id, comune_id, _debited = row
    forget_stale_voucher(voucher_id)
    return Redemption(
        id=entry_id,
        voucher_id=voucher_id,
        voucher_code=code,
        provider_id=provider_id,
        service_code=service_code,
        service_date=service_date,
        quantity=quantity,
        amount_cents=amount,
        public_cents=public,
        copay_cents=copay,
        balance_after_cents=balance,
        idempotency_key=idempotency_key,
        created_at=created_at,
        comune_id=comune_id,
        hours=hours,
    )
