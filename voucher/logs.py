"""Structured (JSON) logs. Request logs carry method, path template and status, never
bodies, query strings or personal data."""

import json
import logging
import sys
import time

from flask import Flask, g, request

from .hooks import every_request

# The `extra` keys a log line may carry: counts and ids, never personal data.
FIELDS = (
    "method",
    "route",
    "status",
    "duration_ms",
    "role",
    "count",
    "seconds",
    "failures",
    "notification",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in FIELDS:
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(app: Flask) -> None:
    if app.testing:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("voucher")
    root.handlers[:] = [handler]
    root.setLevel(app.config.get("LOG_LEVEL", "INFO"))
    root.propagate = False
    access = logging.getLogger("voucher.access")

    @app.before_request
    @every_request
    def _start_timer():
        g._started = time.perf_counter()

    @app.after_request
    @every_request
    def _log_request(response):
        started = getattr(g, "_started", None)
        # The URL rule, not the URL: /api/v1/vouchers/<code> never logs a code.
        route = request.url_rule.rule if request.url_rule else "<unmatched>"
        access.info(
            "request",
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)
                if started
                else None,
            },
        )
        return response
