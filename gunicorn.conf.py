"""Production settings for gunicorn:

    gunicorn -c gunicorn.conf.py 'voucher:create_app()'

Environment: BIND (host:port; default $HOST:$PORT), HOST (127.0.0.1: only the reverse proxy on
the same machine reaches gunicorn; 0.0.0.0 for a proxy elsewhere), PORT (8000), WEB_CONCURRENCY
(workers; default 2 × cores + 1, at most 12), GUNICORN_THREADS (1 per worker: synchronous
workers; more than 1 makes them threaded), GUNICORN_TIMEOUT (60 s), FORWARDED_ALLOW_IPS (the
proxies whose X-Forwarded-* headers are believed, by gunicorn and by the application alike;
127.0.0.1,::1).
"""

import gc
import multiprocessing
import os

# Loopback unless told otherwise: a client that reached gunicorn past the proxy would be
# answered without TLS, and could send X-Forwarded-For headers of its own choosing.
bind = os.environ.get("BIND") or (
    f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or '8000'}"
)

# Workers share nothing but the database (and the rate-limit storage): any number works.
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 12))
# Synchronous workers, one request at a time each, behind a buffering proxy (nginx buffers
# requests and answers by default, so a slow phone never holds a worker). The work is CPU
# bound, and a free worker takes the next connection from the one queue, first come first
# served. Threaded workers (4 threads each) were measured slower and far less even under 16
# concurrent redemptions (scripts/bench_redeem, 2 cores): a keep-alive connection stays with
# the worker that accepted it, unevenly spread, and a worker's threads wait for each other's
# interpreter lock; p99 was up to 3 times p50, against 1.3 times here. GUNICORN_THREADS > 1
# makes the workers threaded (gunicorn's gthread), for clients without such a proxy.
worker_class = "sync"
threads = int(os.environ.get("GUNICORN_THREADS", "1"))

# A worker silent for this long (one request running longer) is killed and replaced. The
# slowest answers, reports over a year of redemptions, take seconds (scripts/bench_reports);
# a batch's letters are built in the background and only downloaded.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5  # threaded workers only: a synchronous worker closes after each answer
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

# The same list the application reads (voucher.proxies): X-Forwarded-For, -Proto and -Host
# are believed only from these addresses, never from a client that connects directly.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# No gunicorn access log: a path can hold a voucher code (/api/v1/vouchers/<code>). The
# application logs every request itself, by route template, method, status and duration
# (logger voucher.access, one JSON line on stderr).
accesslog = None
# Should one be turned on all the same (--access-logfile), it logs the path alone: never the
# query string (gunicorn's default logs the request line whole) nor the client's address.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
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
