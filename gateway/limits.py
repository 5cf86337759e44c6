"""Body limits, as a pure ASGI middleware (no per-request task): 413 for a body over
``max_body_bytes`` (the ``Content-Length`` first, then the bytes actually received, for chunked
bodies; a campaign rows upload, ``POST /api/v1/campaigns/{id}/rows``, may be up to
``max_upload_bytes``), 422 for JSON nested deeper than ``max_json_depth``. Both are problem details and reach no
route, so nothing is created or changed."""

from __future__ import annotations

from . import problems


def json_depth_over(body: bytes, limit: int) -> bool:
    """Whether ``body`` nests arrays/objects deeper than ``limit`` (brackets inside strings do not
    count). Linear, and skipped when the body has fewer brackets than the limit."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for c in body:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif c in (0x5D, 0x7D):
            depth -= 1
    return False


async def _problem(scope, receive, send, status: int, code: str, title: str, detail: str) -> None:
    """The same answer the exception handlers give (``gateway.problems``): problem details, or the
    TMF Error shape under ``/tmf-api/``."""
    path = scope.get("path", "")
    response = problems.problem(status, code, title, detail, path, [{"field": "body", "message": detail}])
    if path.startswith(problems.TMF_PREFIX):
        response = problems.tmf_error(response)
    await response(scope, receive, send)


UPLOAD_PREFIX, UPLOAD_SUFFIX = "/api/v1/campaigns/", "/rows"  # the one route that takes large bodies


class BodyLimitMiddleware:
    def __init__(self, app, max_bytes: int, max_depth: int, max_upload_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_upload_bytes = max(max_bytes, max_upload_bytes or max_bytes)

    def limit(self, path: str) -> int:
        if path.startswith(UPLOAD_PREFIX) and path.endswith(UPLOAD_SUFFIX):
            return self.max_upload_bytes
        return self.max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            return await self.app(scope, receive, send)
        max_bytes = self.limit(scope.get("path", ""))
        too_big = (413, "request.too_large", "Body too large", f"the body is over {max_bytes} bytes")
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > max_bytes:
                        return await _problem(scope, receive, send, *too_big)
                except ValueError:
                    return await _problem(scope, receive, send, 400, "request.malformed", "Bad Content-Length",
                                          "Content-Length is not a number")
        # Read the whole body here (it is small: bounded above), check it, then hand it on.
        try:
            body = await read_body(receive, max_bytes)
        except TooLarge:
            return await _problem(scope, receive, send, *too_big)
        if body is None:  # the client went away
            return
        if json_depth_over(body, self.max_depth):
            return await _problem(scope, receive, send, 422, "request.too_deep", "Body nested too deeply",
                                  f"the body nests arrays or objects deeper than {self.max_depth} levels")
        await self.app(scope, replaying(body, receive), send)


class TooLarge(Exception):
    pass


async def read_body(receive, max_bytes: int | None = None) -> bytes | None:
    """The whole request body; None when the client went away first. ``TooLarge`` as soon as more
    than ``max_bytes`` have come."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(body: bytes, receive):
    """A ``receive`` that gives ``body`` (read already) once, then waits on the real one: for a
    disconnect, as the server would."""
    sent = False

    async def replay():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
