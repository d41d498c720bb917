"""A local stand-in for App IO's services API, which cannot be reached from here. It
enforces the published rules the client must respect:
- the `Ocp-Apim-Subscription-Key` header is required (401 without, or with a wrong key);
- `POST /api/v1/profiles` `{fiscal_code}`: 404 for an unknown profile, else
  `{sender_allowed, preferred_languages}`;
- `POST /api/v1/messages` `{fiscal_code, content: {subject, markdown}}`: 201 `{id}`; 400 for
  a message outside the schema's limits (subject 10–120 characters, markdown 80–10,000), a
  malformed fiscal code or body; 404 for an unknown profile; 403 when the profile does not
  accept the service (`sender_allowed: false`);
- 429 with `Retry-After` when throttled (`throttle` next requests).
"""

import json
import re
import threading
import uuid
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FISCAL_CODE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)


@dataclass
class FakeIo:
    key: str = "io-test-key"
    profiles: dict = field(default_factory=dict)  # fiscal code -> sender_allowed
    messages: list = field(default_factory=list)
    throttle: int = 0  # answer 429 to this many next requests
    retry_after: int = 1
    requests: list = field(default_factory=list)

    def _problem(self, status: int, title: str) -> Response:
        body = {"status": status, "title": title}
        return Response(json.dumps(body), status, content_type="application/problem+json")

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.method, request.path))
        response = self._answer(request)
        return response(environ, start_response)

    def _answer(self, request: Request) -> Response:
        if request.headers.get("Ocp-Apim-Subscription-Key") != self.key:
            return self._problem(401, "Access denied due to missing or invalid subscription key")
        if self.throttle > 0:
            self.throttle -= 1
            response = self._problem(429, "Too Many Requests")
            response.headers["Retry-After"] = str(self.retry_after)
            return response
        if request.method != "POST":
            return self._problem(405, "Method not allowed")
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return self._problem(400, "Invalid JSON")
        code = body.get("fiscal_code") if isinstance(body, dict) else None
        if not isinstance(code, str) or not FISCAL_CODE.match(code):
            return self._problem(400, "Invalid fiscal_code")
        if request.path == "/api/v1/profiles":
            if code not in self.profiles:
                return self._problem(404, "Profile not found")
            answer = {"sender_allowed": self.profiles[code], "preferred_languages": ["it_IT"]}
            return Response(json.dumps(answer), 200, content_type="application/json")
        if request.path == "/api/v1/messages":
            return self._message(code, body)
        return self._problem(404, "Not found")

    def _message(self, code: str, body: dict) -> Response:
        content = body.get("content")
        if not isinstance(content, dict):
            return self._problem(400, "Missing content")
        subject, markdown = content.get("subject"), content.get("markdown")
        if not isinstance(subject, str) or not 10 <= len(subject) <= 120:
            return self._problem(400, "subject must be 10 to 120 characters")
        if not isinstance(markdown, str) or not 80 <= len(markdown) <= 10_000:
            return self._problem(400, "markdown must be 80 to 10000 characters")
        if code not in self.profiles:
            return self._problem(404, "Profile not found")
        if not self.profiles[code]:
            return self._problem(403, "The recipient does not accept messages from this service")
        message_id = uuid.uuid4().hex
        self.messages.append({"id": message_id, "fiscal_code": code, **content})
        return Response(json.dumps({"id": message_id}), 201, content_type="application/json")


class IoServer:
    """FakeIo served over HTTP on a free local port, in a thread."""

    def __init__(self, fake: FakeIo):
        self.fake = fake
        self.server = make_server("127.0.0.1", 0, fake, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
