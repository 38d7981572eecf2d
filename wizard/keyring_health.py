"""Is this keyring a real OS keyring? And if not, what exactly should the user do?

Split from :mod:`wizard.vault` so the diagnosis (which backend, which problem,
which fix on which OS) can be read and tested on its own. Backends are judged
by class and module name, so nothing here imports ``keyring``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from wizard.crash import scrub
from wizard.secret import Secret

_FILE_BACKEND_CLASSES = {"PlaintextKeyring", "EncryptedKeyring", "CryptFileKeyring", "UncryptedFileKeyring"}


class KeyringProblemKind(Enum):
    """Every way the keyring can be unfit to hold a key."""

    NO_BACKEND = "no_backend"
    NULL_BACKEND = "null_backend"
    PLAINTEXT_BACKEND = "plaintext_backend"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"
    READBACK_MISMATCH = "readback_mismatch"
    TOO_LARGE = "too_large"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"
    INVALID_ENTRY = "invalid_entry"  # an entry exists but is not a binance-key-wizard document
    # Kinds only the server stores (wizard.stores) report; every store shares this one enum.
    UNREACHABLE = "unreachable"
    UNAUTHENTICATED = "unauthenticated"  # no token, or a bad or expired one
    PERMISSION_DENIED = "permission_denied"
    SEALED = "sealed"
    CONFLICT = "conflict"  # check-and-set: another writer changed the document meanwhile


@dataclass(frozen=True)
class KeyringProblem:
    """What is wrong with the keyring, in plain words, and the OS-specific fix."""

    kind: KeyringProblemKind
    message: str
    fix: str
    backend: str = ""

    def __post_init__(self) -> None:
        # A store's message can quote a server (OpenBao/Vault answers over HTTP) or a
        # backend's exception: no control or escape character reaches the screen. Line
        # breaks stay: the fixes are multi-line instructions the wizard wrote itself.
        from wizard.text import printable_lines

        object.__setattr__(self, "message", printable_lines(self.message))
        object.__setattr__(self, "fix", printable_lines(self.fix))

    @property
    def exit_code(self) -> int:
        """CLI exit code: 3 means no stored credentials or an unusable keyring."""
        return 3


def problem(kind: KeyringProblemKind, message: str, backend: str = "") -> KeyringProblem:
    """A problem with the fix for this OS filled in."""
    return KeyringProblem(kind, message, fix_for(kind, backend=backend), backend)


def backend_name(backend: object) -> str:
    """``module.Class`` of a keyring backend, for messages."""
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def is_chainer(backend: object) -> bool:
    """True for keyring's ChainerBackend (it wraps the other backends)."""
    return any(cls.__name__ == "ChainerBackend" for cls in type(backend).__mro__)


def is_windows(backend: object) -> bool:
    """True for Windows Credential Manager (it limits entries to 1280 characters)."""
    return type(backend).__module__ == "keyring.backends.Windows" or type(backend).__name__ == "WinVaultKeyring"


def classify_backend(backend: object) -> KeyringProblem | None:
    """Why this backend must not hold a key, or None if it is an OS keyring."""
    name = backend_name(backend)
    modules = {cls.__module__ for cls in type(backend).__mro__}
    classes = {cls.__name__ for cls in type(backend).__mro__}
    if "keyring.backends.fail" in modules:
        return problem(KeyringProblemKind.NO_BACKEND, "No OS keyring is available to store the key.", name)
    if "keyring.backends.null" in modules:
        return problem(
            KeyringProblemKind.NULL_BACKEND,
            "The keyring is set to the 'null' backend, which accepts keys and silently stores nothing.",
            name,
        )
    if any(m.startswith("keyrings.alt") for m in modules) or classes & _FILE_BACKEND_CLASSES:
        return problem(
            KeyringProblemKind.PLAINTEXT_BACKEND,
            f"The keyring backend ({name}) keeps keys in a file, not in the OS keyring; "
            "the wizard will not store a key there.",
            name,
        )
    try:
        priority = float(backend.priority)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - a backend says "not usable here" by raising
        return problem(
            KeyringProblemKind.UNAVAILABLE, f"The keyring ({name}) is not usable here ({type(exc).__name__}).", name
        )
    if priority < 1:
        return problem(
            KeyringProblemKind.UNAVAILABLE,
            f"The keyring backend ({name}) is not a recommended OS keyring (priority {priority:g}).",
            name,
        )
    return None


def problem_from_exception(exc: BaseException, backend: str, secrets: Iterable[Secret]) -> KeyringProblem:
    """Map a keyring exception to a problem; any text from it is scrubbed and shortened."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "KeyringLocked" in names:
        return problem(KeyringProblemKind.LOCKED, "The keyring is locked and was not unlocked.", backend)
    if "NoKeyringError" in names:
        return problem(KeyringProblemKind.NO_BACKEND, "No OS keyring is available to store the key.", backend)
    if isinstance(exc, TimeoutError):
        return problem(KeyringProblemKind.TIMEOUT, "The keyring did not answer in time.", backend)
    detail = scrub(str(exc), secrets)[:200]
    detail = f": {detail}" if detail else ""
    return problem(KeyringProblemKind.UNAVAILABLE, f"The keyring failed ({type(exc).__name__}{detail}).", backend)


# -- fixes, per OS ---------------------------------------------------------

_HEADLESS_LINUX = (
    "On a Linux server without a desktop, install GNOME Keyring and run it in a D-Bus session "
    "(Fedora: `sudo dnf install gnome-keyring dbus-daemon`):\n"
    "  sudo apt-get install -y gnome-keyring dbus\n"
    "  dbus-run-session -- bash\n"
    "  read -rsp 'Keyring password: ' KP; echo; "
    "printf '%s' \"$KP\" | gnome-keyring-daemon --unlock --components=secrets; unset KP\n"
    "  binance-key-wizard\n"
    "Start your bot from that same session so it can read the key."
)
_DESKTOP_LINUX = (
    "Use a Secret Service keyring: GNOME Keyring (`sudo apt-get install gnome-keyring`, then log out "
    "and back in) or KDE's KWallet (enable it in System Settings; `pip install dbus-python`)."
)
_STORE = {
    "macos": "Use the macOS Keychain (keyring's default on macOS): `pip install --upgrade keyring`.",
    "windows": "Use Windows Credential Manager (keyring's default on Windows): "
    "`pip install --upgrade keyring pywin32-ctypes`.",
}
_CONFIG = (
    "Remove the PYTHON_KEYRING_BACKEND environment variable and any `default-keyring` line in "
    "keyringrc.cfg (`python -m keyring diagnose` shows where it is)."
)
_UNLOCK = {
    "macos": "Unlock the login keychain (`security unlock-keychain ~/Library/Keychains/login.keychain-db`, "
    "or in Keychain Access), then try again.",
    "windows": "Sign in to Windows with your own account (Credential Manager opens with it), then try again.",
    "linux": "Answer the keyring's unlock prompt, or unlock the 'Login' keyring in Passwords and Keys "
    "(seahorse), then try again.",
    "headless": "Unlock GNOME Keyring in this D-Bus session: `read -rsp 'Keyring password: ' KP; echo; "
    "printf '%s' \"$KP\" | gnome-keyring-daemon --replace --unlock --components=secrets; unset KP`, "
    "then try again.",
}


def current_os(system: str | None = None, headless: bool | None = None) -> str:
    """"macos", "windows", "linux" (desktop) or "headless" (Linux/BSD without a display)."""
    system = system or sys.platform
    if system == "darwin":
        return "macos"
    if system.startswith(("win", "cygwin")):
        return "windows"
    if headless is None:
        headless = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return "headless" if headless else "linux"


def _store_advice(where: str) -> str:
    if where in _STORE:
        return _STORE[where]
    return _HEADLESS_LINUX if where == "headless" else _DESKTOP_LINUX


def fix_for(
    kind: KeyringProblemKind, *, backend: str = "", system: str | None = None, headless: bool | None = None
) -> str:
    """What the user should do about ``kind`` on this OS (``system`` is a ``sys.platform`` value)."""
    where = current_os(system, headless)
    store = _store_advice(where)
    if kind is KeyringProblemKind.NULL_BACKEND:
        return f"{_CONFIG} {store}"
    if kind is KeyringProblemKind.PLAINTEXT_BACKEND:
        return f"Uninstall keyrings.alt (`pip uninstall keyrings.alt`) or {_CONFIG[0].lower()}{_CONFIG[1:]} {store}"
    if kind is KeyringProblemKind.LOCKED:
        return _UNLOCK[where]
    if kind is KeyringProblemKind.TIMEOUT:
        return f"The keyring may be waiting for you to unlock it: look for a password prompt. {_UNLOCK[where]}"
    if kind is KeyringProblemKind.TOO_LARGE:
        return (
            "Windows Credential Manager holds at most 1280 characters per entry: use an Ed25519 or HMAC key "
            "(RSA private keys do not fit) and a short --base-url."
        )
    if kind is KeyringProblemKind.READBACK_MISMATCH:
        return f"The keyring backend is broken or a 'null' store. {_CONFIG} {store}"
    if kind is KeyringProblemKind.NOT_FOUND:
        return (
            "Run `binance-key-wizard` to set the key up (or `binance-key-wizard add LABEL` without the "
            "wizard); `binance-key-wizard review` lists the labels you have."
        )
    if kind is KeyringProblemKind.INVALID_ENTRY:
        return "Run `binance-key-wizard` and store the key again under this label."
    # NO_BACKEND, UNAVAILABLE
    return f"{store} Check with `python -m keyring diagnose`." + (f" (backend: {backend})" if backend else "")
