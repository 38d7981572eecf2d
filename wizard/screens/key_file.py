"""Reading an Ed25519 private key the user already has, from a PEM file.

The user types a path, never the key: a private key pasted into a text area
would be on screen (and :class:`KeyPathInput` refuses a paste of one). The
file is read off the UI thread by the label screen's worker; every failure is
an :class:`~wizard.parsing.InputError` whose message names the path and what
to do, and never quotes the file's contents. Only the input widget uses Textual.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from textual import events
from textual.message import Message
from textual.widgets import Input

from wizard.widgets.steady_input import SteadyInput

from wizard.parsing import InputError
from wizard.secret import Secret

# A PKCS#8 Ed25519 key is 119 bytes of PEM; 16 KiB leaves room for comments and a public
# block beside it, and keeps a wrong path (a log, a disk image) from being read into memory.
MAX_KEY_FILE_BYTES = 16 * 1024
EXAMPLE_PATH = "~/keys/binance-ed25519.pem"
IMPOSSIBLE_PATH = "That path contains characters no file name can have. Type the path again."

# What a paste of the key itself contains: PEM armour, or the start of an Ed25519 PKCS#8
# body (v1, v2, v2 with attributes) -- the base64 of the DER header every such key shares.
_KEY_MARKERS = ("-----BEGIN", "-----END", "MC4CAQAwBQYDK2Vw", "MFECAQEwBQYDK2Vw", "MFMCAQEwBQYDK2Vw")

def key_file_path(text: str) -> Path:
    """The path the user typed: trimmed, surrounding quotes (file managers add them) removed, ``~`` expanded."""
    cleaned = text.strip()
    if len(cleaned) >= 2 and cleaned[0] == cleaned[-1] and cleaned[0] in "'\"":
        cleaned = cleaned[1:-1].strip()
    if not cleaned:
        raise InputError(f"Type the path to your Ed25519 private key file, e.g. {EXAMPLE_PATH}.")
    try:
        return Path(cleaned).expanduser()
    except RuntimeError:  # "~someone" for an unknown user, or no home directory at all
        raise InputError(f"There is no home folder for {Path(cleaned).parts[0]}: type the full path "
                         "instead.") from None
    except ValueError:  # "~" and a NUL: the user lookup refuses the name
        raise InputError(IMPOSSIBLE_PATH) from None


def _read_bytes(path: Path) -> bytes:
    shown = str(path)
    try:
        info = path.stat()  # before open(): opening a FIFO or a device could block or never end
    except FileNotFoundError:
        raise InputError(f"There is no file at {shown}. Check the path and the file name.") from None
    except PermissionError:
        raise InputError(f"The wizard may not look at {shown}: check the folder's permissions.") from None
    except ValueError:  # e.g. an embedded NUL: no file can have that name
        raise InputError(IMPOSSIBLE_PATH) from None
    except OSError as exc:
        raise InputError(f"{shown} could not be read ({exc.strerror or type(exc).__name__}).") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{shown} is a folder. Give the path of the key file in it, e.g. "
                         f"{os.path.join(shown, 'binance-ed25519.pem')}.")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{shown} is not a regular file. Give the path of the PEM key file itself.")
    too_big = (f"{shown} is larger than {MAX_KEY_FILE_BYTES // 1024} KiB: not an Ed25519 key file "
               "(those are a few hundred bytes). Check the path.")
    if info.st_size > MAX_KEY_FILE_BYTES:
        raise InputError(too_big)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)  # +1: notice a file that grew since stat()
    except PermissionError:
        raise InputError(f"The wizard may not read {shown}. Make it readable by your user "
                         "(and only by you: chmod 600).") from None
    except OSError as exc:
        raise InputError(f"{shown} could not be read ({exc.strerror or type(exc).__name__}).") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise InputError(too_big)
    if not data.strip():
        raise InputError(f"{shown} is empty. Give the path of the file that holds the private key.")
    return data


def _decode(data: bytes, shown: str) -> Secret:
    # errors="replace" rather than catching UnicodeDecodeError: that exception would carry the
    # file's bytes (exc.object) along with any traceback.
    text = data.decode("utf-8-sig", errors="replace")
    if "\ufffd" in text:
        raise InputError(f"{shown} is not a text (PEM) file; it may be a binary DER key. Convert it: "
                         "openssl pkey -inform DER -in KEYFILE -out key.pem")
    return Secret(text)


def read_key_file(path_text: str) -> tuple[Secret, str]:
    """Read, check and normalise the private key at ``path_text``; return it and its public PEM.

    Blocking file I/O: call it from a worker thread. Raises :class:`InputError`
    for a missing, unreadable, oversized or binary file and (from
    :func:`wizard.parsing.normalize_private_key_pem`) for encrypted, RSA,
    public, OpenSSH or damaged keys.
    """
    from wizard.keygen import public_pem_from_private
    from wizard.parsing import normalize_private_key_pem

    path = key_file_path(path_text)
    private = normalize_private_key_pem(_decode(_read_bytes(path), str(path)))
    return private, public_pem_from_private(private)


def looks_like_key_material(text: str) -> bool:
    """True when ``text`` is (a line of) a PEM key rather than a path."""
    compact = "".join(text.split())
    return any(marker in compact for marker in _KEY_MARKERS)


class KeyPathInput(SteadyInput):
    """The key file's path. A paste of the key itself is dropped: it would be shown on screen."""

    class KeyPasted(Message):
        """The user pasted key material instead of a path; none of it was entered."""

    def _on_paste(self, event: events.Paste) -> None:
        if looks_like_key_material(event.text):
            event.prevent_default()  # Input's own handler would insert the first line
            event.stop()
            self.post_message(self.KeyPasted())
