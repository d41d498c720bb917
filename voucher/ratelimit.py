"""A `limits` storage in the application's own database.

With several gunicorn workers or hosts, rate-limit counters must be shared; Redis does that
where it is configured (RATELIMIT_STORAGE_URI=redis://…). Without it, this storage keeps
the counters in PostgreSQL, so every worker agrees. Each increment runs in its own short
transaction, apart from the request's, so a request that rolls back still counts.
"""

import time
from urllib.parse import parse_qs, urlparse

import sqlalchemy as sa
from limits.storage import Storage

_TABLE = sa.table(
    "rate_limit_counter",
    sa.column("key", sa.String),
    sa.column("count", sa.Integer),
    sa.column("expires_at", sa.Float),
)

# A window that has ended starts again at `amount`; otherwise the count grows.
_INCR = sa.text("""
    INSERT INTO rate_limit_counter (key, count, expires_at)
    VALUES (:key, :amount, :expires_at)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limit_counter.expires_at <= :now THEN :amount
                   ELSE rate_limit_counter.count + :amount END,
      expires_at = CASE WHEN rate_limit_counter.expires_at <= :now THEN :expires_at
                        ELSE rate_limit_counter.expires_at END
    RETURNING count
""")


class DatabaseStorage(Storage):
    """`voucher+db://?url=<SQLAlchemy URL>`: fixed-window counters in a SQL table."""

    STORAGE_SCHEME = ["voucher+db"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        query = parse_qs(urlparse(uri).query)
        url = options.pop("url", None) or query.get("url", [None])[0]
        if not url:
            raise ValueError("voucher+db:// needs the database URL (?url=… or url=)")
        self.engine = sa.create_engine(url, pool_size=2, max_overflow=4, pool_pre_ping=True)
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self):
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as conn:
            return conn.execute(
                _INCR, {"key": key, "amount": amount, "now": now, "expires_at": now + expiry}
            ).scalar_one()

    def _row(self, key: str):
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(_TABLE.c.count, _TABLE.c.expires_at).where(_TABLE.c.key == key)
            ).first()

    def get(self, key: str) -> int:
        row = self._row(key)
        return row.count if row is not None and row.expires_at > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row.expires_at if row is not None and row.expires_at > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_TABLE)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_TABLE).where(_TABLE.c.key == key))

    def purge_expired(self) -> int:
        """Delete ended windows (the nightly `expire` job calls it)."""
        with self.engine.begin() as conn:
            return conn.execute(
                sa.delete(_TABLE).where(_TABLE.c.expires_at <= time.time())
            ).rowcount
