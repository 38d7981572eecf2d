"""Defences against a server that is not Binance (or a Binance address that was hijacked).

The wizard sends an API key and signed requests to whatever ``--base-url``
names, so that server must not be able to:

* **forward the key elsewhere**: redirects are never followed (aiohttp follows
  them by default, re-sending ``X-MBX-APIKEY`` and the signed query to the new
  host, even over plain http). A 3xx answer is "exchange unusable", naming
  where it pointed, as sanitised text;
* **exhaust memory**: a response body is read up to :data:`MAX_BODY_BYTES`
  (no Binance answer the wizard asks for comes near: exchangeInfo for one
  symbol is a few KB), then the connection is dropped.

Nothing here imports aiohttp at module level: :func:`client_options` does, when
the first client is built (python-binance has already loaded it by then).
"""

from __future__ import annotations

from typing import Any

from wizard.exchange.model import Problem, ProblemKind
from wizard.text import printable

# 4 MiB: ~1000x one symbol's exchangeInfo; a whole-market exchangeInfo (~15 MB)
# is never requested. Reading stops the moment the cap is passed.
MAX_BODY_BYTES = 4 * 1024 * 1024
_CHUNK = 64 * 1024


class ResponseTooLarge(Exception):
    """The server sent (or announced) more than :data:`MAX_BODY_BYTES`."""


_capped_class: Any = None


def _capped_response_class() -> Any:
    """An ``aiohttp.ClientResponse`` whose body is read with a size limit."""
    global _capped_class
    if _capped_class is not None:
        return _capped_class
    import aiohttp

    class CappedResponse(aiohttp.ClientResponse):
        """Reads at most MAX_BODY_BYTES; more raises ResponseTooLarge and drops the connection."""

        async def read(self) -> bytes:
            if self._body is None:
                try:
                    self._body = await _read_capped(self)
                except BaseException:
                    self.close()  # don't leave the rest of an endless body in the pool
                    raise
            return await super().read()

    _capped_class = CappedResponse
    return CappedResponse


async def _read_capped(response: Any) -> bytes:
    length = response.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise ResponseTooLarge(length)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await response.content.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ResponseTooLarge(size)
        chunks.append(chunk)


def client_options() -> dict[str, Any]:
    """Keyword arguments for ``AsyncClient(...)``: no redirects, capped bodies.

    ``requests_params`` is merged by python-binance into every request's
    keyword arguments (``_get_request_kwargs``), so each ``session.get/post/
    delete`` gets ``allow_redirects=False``; ``session_params`` go to the
    ``aiohttp.ClientSession`` it creates.
    """
    return {
        "requests_params": {"allow_redirects": False},
        "session_params": {"response_class": _capped_response_class()},
    }


def hostile_problem(exc: BaseException) -> Problem | None:
    """The Problem for a redirect or an oversized answer; None for anything else."""
    if isinstance(exc, ResponseTooLarge):
        return too_large()
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and 300 <= status < 400:
        headers = getattr(getattr(exc, "response", None), "headers", None)
        location = headers.get("Location") if headers is not None else None
        return redirected(status, location)
    return None


def shown_location(location: str) -> str:
    """Where a redirect pointed, safe to show: no query (it can echo the
    signature), no user info, no control characters, long path segments cut."""
    from urllib.parse import urlsplit

    text = printable(location).split("?", 1)[0].split("#", 1)[0]
    try:
        parts = urlsplit(text)
        host, port = parts.hostname or "", parts.port
    except ValueError:  # a bad port or bracket: the text, without any user info
        return printable(text.rpartition("@")[2] if "//" in text else text, limit=120)
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    # A segment as long as a key or signature is cut, whatever it is.
    path = "/".join(seg if len(seg) < 32 else "…" for seg in parts.path.split("/"))
    shown = f"{parts.scheme}://{netloc}{path}" if parts.scheme and host else path
    return printable(shown, limit=120)


def redirected(status: int, location: str | None) -> Problem:
    """A 3xx: the server wanted the signed request sent somewhere else."""
    where = f" to {shown_location(location)}" if location else ""
    return Problem(
        ProblemKind.NOT_FOUND,
        f"The exchange answered with a redirect (HTTP {status}){where}. The wizard never "
        "follows a redirect: it would send your API key and signed requests to another server.",
        "Check --base-url: give the API's own address (Binance's is https://api.binance.com), "
        "not one that forwards elsewhere.",
        status=status,
    )


def too_large() -> Problem:
    """The answer was bigger than any Binance answer the wizard asks for."""
    mib = MAX_BODY_BYTES // (1024 * 1024)
    return Problem(
        ProblemKind.NOT_FOUND,
        f"The exchange's answer was larger than {mib} MiB, far more than Binance sends for "
        "these requests: the wizard stopped reading it.",
        "Check --base-url points at Binance (or the simulator), and any proxy in between.",
    )
