"""What the commands read from the user: the secret (stdin or a key file), bounded, and UsageError.

Secrets arrive on stdin (a hidden prompt on a terminal) or from
``--private-key-file``, never in argv or the environment. Reads stop at
:data:`MAX_SECRET_BYTES`, so a runaway pipe (``cat /dev/zero | ... add``) or a
device given as the key file ends at once with exit 2 and bounded memory.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.secret import Secret


class UsageError(Exception):
    """Malformed input from the command line or stdin (exit 2); the message says what to do."""

    def __init__(self, id: str, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.id, self.message, self.fix = id, message, fix


def read_secret(args: argparse.Namespace) -> tuple[str, Secret]:
    """The HMAC secret from stdin (hidden prompt on a terminal), or the Ed25519 key file."""
    from wizard.parsing import InputError, clean_hmac_secret, normalize_private_key_pem

    if getattr(args, "private_key_file", None):
        try:
            return "ed25519", normalize_private_key_pem(_key_file_text(args.private_key_file))
        except InputError as exc:
            raise UsageError("private_key_invalid", str(exc)) from None
    try:
        return "hmac", clean_hmac_secret(_secret_text())
    except InputError as exc:
        raise UsageError("secret_invalid", str(exc)) from None


def _secret_text() -> str:
    """Read the secret without echo and without it ever touching argv or the environment."""
    stream = sys.stdin
    if stream is None:
        raise UsageError("secret_missing", "No standard input to read the secret from.", _STDIN_FIX)
    if stream.isatty():
        import getpass

        try:
            return getpass.getpass("Secret key (input hidden): ")
        except KeyboardInterrupt:  # exit 130 (wizard.cli), after ending the prompt's line
            print(file=sys.stderr)
            raise
        except EOFError:
            print(file=sys.stderr)
            raise UsageError("secret_missing", "No secret key was entered.", _STDIN_FIX) from None
    text = _bounded(lambda n: _read_stream(stream, n), "standard input")
    if not text.strip():
        raise UsageError("secret_missing", "No secret key on standard input.", _STDIN_FIX)
    return text


# No HMAC secret (64 characters) or PEM private key (an RSA-4096 PEM is ~3.3 KB) comes near this;
# reading stops here, so `cat /dev/zero | ... add` ends at once with bounded memory.
MAX_SECRET_BYTES = 64 * 1024


def _bounded(read: Any, source: str) -> str:
    """Read at most MAX_SECRET_BYTES (+1 to notice more) and decode UTF-8; UsageError otherwise."""
    data = read(MAX_SECRET_BYTES + 1)
    if len(data) > MAX_SECRET_BYTES:
        raise UsageError("secret_too_large", f"More than {MAX_SECRET_BYTES // 1024} KiB on {source}: "
                         "that is not a Binance secret or private key.",
                         "Give only the secret key (or the PEM file of the Ed25519 private key).")
    try:
        return data if isinstance(data, str) else data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("secret_not_text", f"{source[0].upper()}{source[1:]} is not UTF-8 text, so it is not "
                         "a Binance secret or PEM private key.",
                         "Give the PEM text file of the Ed25519 private key (-----BEGIN PRIVATE KEY-----).") from None


def _read_stream(stream: Any, limit: int) -> bytes | str:
    """Up to ``limit`` bytes (or characters of a text-only stream), looping over short reads."""
    raw = getattr(stream, "buffer", None)
    reader = raw.read if raw is not None else stream.read
    chunks, size = [], 0
    while size < limit:
        chunk = reader(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if not chunks:
        return b""
    return chunks[0][:0].join(chunks)  # bytes or str, whichever the stream gave


def _key_file_text(path: str) -> str:
    """The key file's text, at most MAX_SECRET_BYTES; UsageError (exit 2) for anything unreadable."""
    try:
        with open(Path(path).expanduser(), "rb") as fh:
            return _bounded(lambda n: _read_stream(fh, n), f"the key file {path}")
    except OSError as exc:
        raise UsageError("private_key_unreadable", f"Cannot read {path}: {exc.strerror or type(exc).__name__}.",
                         "Check the path and that you may read the file.") from None


_STDIN_FIX = (
    "Pipe the secret in, e.g. `pass show binance/secret | binance-key-wizard add LABEL --api-key KEY`, "
    "or run the command in a terminal to be prompted. Never put the secret on the command line."
)


