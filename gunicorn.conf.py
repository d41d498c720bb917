"""Production settings for gunicorn:

    gunicorn -c gunicorn.conf.py 'voucher:create_app()'

Environment: BIND (host:port; default 0.0.0.0:$PORT), PORT (8000), WEB_CONCURRENCY (workers;
default 2 × cores + 1, at most 12), GUNICORN_THREADS (4 per worker), GUNICORN_TIMEOUT (60 s),
FORWARDED_ALLOW_IPS (the proxies whose X-Forwarded-* headers are believed; 127.0.0.1).
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Workers share nothing but the database (and the rate-limit storage): any number works.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 12))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a large batch PDF takes a while
graceful_timeout = 30
keepalive = 5
# The application is built once, in the master, and each worker is a fork of it: a worker
# starts (or is replaced) in milliseconds instead of importing and building everything
# again, which on a small machine took CPU from the requests being served. Deploying new
# code therefore means restarting gunicorn, not sending it HUP.
preload_app = True
# Recycle workers now and then, so that a slow leak never grows without bound.
max_requests = 20000
max_requests_jitter = 2000

# Requests larger than this are refused before they reach the application.
limit_request_line = 8190
limit_request_fields = 100

forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# No gunicorn access log: a path can hold a voucher code (/api/v1/vouchers/<code>). The
# application logs every request itself, by route template, method, status and duration
# (logger voucher.access, one JSON line on stderr).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def pre_fork(server, worker):
    """The preloaded application's objects (modules, classes, compiled schemas: some 270,000)
    live as long as the process. Frozen, the garbage collector no longer walks them: a full
    collection in a worker took over 100 ms, a pause for every request in flight there (and,
    through the locks they hold, for others too), and it would also touch the pages that
    the workers share with the master."""
    gc.collect()
    gc.freeze()


def post_fork(server, worker):
    """A worker never uses a database connection the master may have opened: each engine
    starts the worker with an empty pool (SQLAlchemy's advice for forked processes)."""
    from voucher.extensions import db, limiter

    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
        if app.config["RATELIMIT_ENABLED"]:  # otherwise there is no storage to ask for
            storage_engine = getattr(limiter.storage, "engine", None)
            if storage_engine is not None:
                storage_engine.dispose(close=False)
