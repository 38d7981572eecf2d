"""The one type a secret travels in.

A :class:`Secret` wraps an API secret or a private key PEM so that printing,
logging, formatting or pickling it never shows the value. The value is only
reachable through :meth:`Secret.reveal`, which makes every place that needs the
plain text easy to find with ``grep reveal``.
"""

from __future__ import annotations

from typing import NoReturn

REDACTED = "Secret('********')"


class Secret:
    """A string that refuses to show itself.

    ``repr``/``str``/``format`` give a fixed mask; equality is constant-time;
    pickling and copying to a plain string by accident are refused.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """Return the plain value. Call only where the value must leave memory."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # here, not at the top: hashlib's OpenSSL binding isn't needed for the first frame

        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        # Hashing the value would let a dict key or set leak timing; secrets
        # are never used as keys, so identity is enough.
        return id(self)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __getstate__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")
