"""Production settings for gunicorn:

    gunicorn -c gunicorn.conf.py 'voucher:create_app()'

Environment: BIND (host:port; default 0.0.0.0:$PORT), PORT (8000), WEB_CONCURRENCY (workers;
default 2 × cores + 1, at most 12), GUNICORN_THREADS (4 per worker), GUNICORN_TIMEOUT (60 s),
FORWARDED_ALLOW_IPS (the proxies whose X-Forwarded-* headers are believed; 127.0.0.1).
"""

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
# Recycle workers now and then, so that a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200

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
