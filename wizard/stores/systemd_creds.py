"""The ``systemd-creds:DIR`` store: one encrypted credential file per label, for one server.

``store`` pipes the key document into ``systemd-creds encrypt --name=LABEL
--with-key=auto - -`` (the secret goes through stdin and stdout, never argv
or a plaintext file) and writes the ciphertext to ``DIR/LABEL.cred``
atomically: a temp file in DIR (mode 0600), decrypted back and compared, then
renamed over the old file — so a replacement keeps the old credential until the
new one is verified. ``--with-key=auto`` seals with TPM2 plus the host key
when the machine has a TPM2, else with the host key
(``/var/lib/systemd/credential.secret``, created on first use, root only);
:meth:`SystemdCredsStore.sealing` reads which one from the file's header.

A bot started by a unit with ``LoadCredentialEncrypted=LABEL:DIR/LABEL.cred``
finds the decrypted document in ``$CREDENTIALS_DIRECTORY/LABEL``; :meth:`load`
reads it from there first, so the bot needs neither root nor the host key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets as _random
import shutil
import subprocess
import tempfile
from pathlib import Path

from wizard.crash import scrub
from wizard.locking import fsync_directory  # the registry's: a no-op where directories cannot be synced
from wizard.secret import Secret
from wizard.stored_key import StoredKey
from wizard.stores.base import BoundedStore, ProblemKind, StoreError, store_problem

DEFAULT_BINARY = "systemd-creds"
SUFFIX = ".cred"
# The first 16 bytes of a credential name the key that sealed it (systemd's creds-util.h).
SEALED_WITH = {
    "5a1c6a86df9d4096b1d5a65e0862f19a": "the host key",
    "55b9ed1d38594d43a8319d2ebb332ac6": "the host key",
    "0c7cc07b117645919c4b0bea08bc20fe": "the TPM2",
    "faf7eb9341e3412ca1a436f95a29362f": "the TPM2",
    "93a894094874449090caf2fc93cab553": "the TPM2 and the host key",
    "ef4ac13679a9480ea7db68897f9f165d": "the TPM2 and the host key",
    "af4950a849134eb1a73846304ff30c05": "the TPM2 and the host key",
    "adbc4ca3efb64201ba881b6f2e4095ea": "the TPM2 and the host key",
}
NULL_KEY = "058469daf6f54324800549da0f8ea2fb"  # "encrypted" with an empty key: no secrecy at all
_SETUP_FIX = ("Install systemd's tools (`sudo apt-get install -y systemd`; Fedora: `sudo dnf install systemd`) "
              "and run the wizard as root (`sudo binance-key-wizard ...`): the host key is readable only by root.")


class SystemdCredsStore(BoundedStore):
    """Keys as systemd credentials in ``directory`` (``DIR/LABEL.cred``)."""

    kind_title = "systemd credentials store"

    def __init__(self, directory: str | os.PathLike[str], *, binary: str = DEFAULT_BINARY,
                 timeout: float = 20.0) -> None:
        super().__init__(timeout)
        self.directory = Path(directory)
        self.binary = binary

    @property
    def uri(self) -> str:
        """``systemd-creds:DIR``."""
        return f"systemd-creds:{self.directory}"

    def describe(self) -> str:
        """Where the key lives and which key seals it, for messages (runs ``systemd-creds has-tpm2``)."""
        return f"systemd credentials in {self.directory} (LABEL.cred), sealed with {self.sealing_key()}"

    def sealing_key(self) -> str:
        """What ``--with-key=auto`` uses here: the TPM2 and the host key, or the host key alone."""
        found = shutil.which(self.binary)
        if found is None:
            return "the host key or a TPM2 (systemd-creds is not installed here)"
        try:
            # Exit 0 only with full TPM2 support (firmware, driver, system, subsystem).
            tpm2 = subprocess.run([found, "has-tpm2", "-q"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            tpm2 = False
        return "the TPM2 and the host key" if tpm2 else "the host key (this machine has no usable TPM2)"

    def path_for(self, label: str) -> Path:
        """``DIR/LABEL.cred``: what a unit names in ``LoadCredentialEncrypted=LABEL:PATH``."""
        return self.directory / f"{_credential_name(label)}{SUFFIX}"

    def sealing(self, label: str) -> str:
        """Which key protects ``label``'s file: "the host key", "the TPM2", "the TPM2 and the host key"."""
        return _sealed_with(self.path_for(label).read_bytes())

    # -- operations (worker thread) --
    def _where(self) -> str:
        return str(self.directory)

    def _health(self) -> None:
        self._tool()
        name = f"binance-key-wizard-health-{_random.token_hex(6)}"  # unique per run: runs never collide
        probe = Secret(_random.token_urlsafe(24))
        sealed = self._encrypt(name, probe)
        if _sealed_with(sealed) == NULL_KEY:
            raise self._error(ProblemKind.UNAVAILABLE, "systemd-creds encrypted with an empty key (no TPM2 and no "
                              "host key), which hides nothing.", _SETUP_FIX)
        if self._decrypt_bytes(name, sealed) != probe:
            raise self._error(ProblemKind.READBACK_MISMATCH, "systemd-creds did not give the probe value back.",
                              _SETUP_FIX)
        self._ensure_directory()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".health-", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)

    def _load(self, label: str) -> StoredKey:
        name = _credential_name(label)
        given = _from_credentials_directory(name)
        if given is not None:
            return _parse(given, label, "$CREDENTIALS_DIRECTORY")
        path = self.path_for(label)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            raise self._error(ProblemKind.NOT_FOUND, f"No key labelled {label!r} is stored in {self.directory}.",
                              "Store it with `binance-key-wizard add LABEL --store "
                              f"{self.uri}` (or the wizard); `binance-key-wizard review --store {self.uri}` "
                              "lists what is there.") from None
        except OSError as exc:
            raise self._error(ProblemKind.UNAVAILABLE, f"Can't read {path}: {exc.strerror}.",
                              "Run as the user who owns the directory (usually root).") from None
        return _parse(self._decrypt_bytes(name, sealed), label, str(path))

    def _replace(self, label: str, key: StoredKey) -> StoredKey | None:
        name = _credential_name(label)
        self._ensure_directory()
        target = self.path_for(label)
        previous = self._previous(label, target)
        document = key.to_json()
        sealed = self._encrypt(name, document)
        if document.reveal().encode() in sealed:  # never: but a file holding the secret must not exist
            raise self._error(ProblemKind.UNAVAILABLE, "systemd-creds did not encrypt the key.", _SETUP_FIX)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), 0o600)
                fh.write(sealed)
                fh.flush()
                os.fsync(fh.fileno())
            # Decrypt what is on disk, not what is in memory: only that proves the file.
            if self._decrypt_bytes(name, Path(tmp).read_bytes()) != document:
                raise self._error(ProblemKind.READBACK_MISMATCH, f"The encrypted file for {label!r} did not "
                                  "decrypt to the same key, so it was not stored.", _SETUP_FIX)
            os.replace(tmp, target)  # the old credential stays in place until this moment
        except BaseException:
            _unlink(tmp)
            raise
        fsync_directory(self.directory)
        return previous

    def _previous(self, label: str, target: Path) -> StoredKey | None:
        if not target.exists():
            return None
        try:
            return _parse(self._decrypt_bytes(_credential_name(label), target.read_bytes()), label, str(target))
        except StoreError:
            return None  # a damaged old file: the new key replaces it, there is nothing to return

    def _delete(self, label: str) -> bool:
        target = self.path_for(label)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise self._error(ProblemKind.UNAVAILABLE, f"Can't delete {target}: {exc.strerror}.",
                              "Run as the user who owns the directory (usually root).") from None
        fsync_directory(self.directory)
        return True

    def _labels(self) -> list[str]:
        if not self.directory.is_dir():
            return []
        return sorted(p.name[: -len(SUFFIX)] for p in self.directory.iterdir()
                      if p.name.endswith(SUFFIX) and not p.name.startswith(".") and p.is_file())

    # -- systemd-creds --
    def _tool(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise self._error(ProblemKind.NO_BACKEND, "systemd-creds is not installed on this machine.", _SETUP_FIX)
        return found

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise self._error(ProblemKind.UNAVAILABLE, f"Can't create {self.directory}: {exc.strerror}.",
                              f"Create it as root: `sudo install -d -m 700 {self.directory}`.") from None
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise self._error(ProblemKind.UNAVAILABLE, f"{self.directory} is not writable for this user.",
                              "Run the wizard as root (`sudo binance-key-wizard ...`) or choose another DIR.")

    def _encrypt(self, name: str, document: Secret) -> bytes:
        args = [self._tool(), "encrypt", f"--name={name}", "--with-key=auto", "-", "-"]
        return self._call(args, document.reveal().encode(), (document,), "encrypt")

    def _decrypt_bytes(self, name: str, sealed: bytes) -> Secret:
        args = [self._tool(), "decrypt", f"--name={name}", "-", "-"]
        plain = self._call(args, sealed, (), "decrypt")
        try:
            return Secret(plain.decode("utf-8"))
        except UnicodeDecodeError:
            raise self._error(ProblemKind.INVALID_ENTRY, "The credential is not a binance-key-wizard key.",
                              "Store the key again with the wizard or `binance-key-wizard add`.") from None

    def _call(self, args: list[str], data: bytes, secrets: tuple[Secret, ...], what: str) -> bytes:
        try:
            done = subprocess.run(args, input=data, capture_output=True, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise self._error(ProblemKind.TIMEOUT, f"systemd-creds {what} did not finish in {self.timeout:g} s.",
                              _SETUP_FIX) from None
        except OSError as exc:
            raise self._error(ProblemKind.UNAVAILABLE, f"Can't run systemd-creds ({exc.strerror}).",
                              _SETUP_FIX) from None
        if done.returncode == 0:
            return done.stdout
        detail = _last_line(done.stderr, secrets)
        if "ermission denied" in detail or "Access denied" in detail:
            raise self._error(ProblemKind.PERMISSION_DENIED, f"systemd-creds may not use the host key ({detail}).",
                              _SETUP_FIX)
        if what == "decrypt":
            raise self._error(ProblemKind.INVALID_ENTRY, f"systemd-creds could not decrypt the credential ({detail}).",
                              "It was encrypted on another machine, for another label, or with a host key "
                              "that has changed: store the key again on this machine.")
        raise self._error(ProblemKind.UNAVAILABLE, f"systemd-creds {what} failed ({detail}).", _SETUP_FIX)

    def _error(self, kind: ProblemKind, message: str, fix: str) -> StoreError:
        return StoreError(store_problem(kind, message, fix, f"systemd-creds:{self.directory}"))


def _credential_name(label: str) -> str:
    """The label as a credential (and file) name; systemd unit lines can't carry spaces."""
    if " " in label or "/" in label:
        raise StoreError(store_problem(
            ProblemKind.INVALID_ENTRY, f"The label {label!r} can't name a systemd credential (no spaces or '/').",
            "Choose a label with - instead of spaces, e.g. " + repr(label.replace(" ", "-").replace("/", "-")) + "."))
    return label


def _from_credentials_directory(name: str) -> Secret | None:
    """The document systemd decrypted for this unit (``LoadCredentialEncrypted=``), if any."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        return None
    try:
        return Secret(Path(directory, name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return None


def _parse(document: Secret, label: str, where: str) -> StoredKey:
    try:
        return StoredKey.from_json(document)
    except ValueError as exc:
        raise StoreError(store_problem(
            ProblemKind.INVALID_ENTRY, f"The credential for {label!r} in {where} can't be used: {exc}.",
            "Store the key again with the wizard or `binance-key-wizard add`.", where)) from None


def _sealed_with(sealed: bytes) -> str:
    """The sealing key's description from a credential's header (its GUID when unknown)."""
    try:
        raw = base64.b64decode(sealed.strip(), validate=False)[:16]
    except (binascii.Error, ValueError):
        return "an unknown key"
    guid = raw.hex()
    if guid == NULL_KEY:
        return NULL_KEY
    return SEALED_WITH.get(guid, f"an unknown key ({guid})")


def _last_line(stderr: bytes, secrets: tuple[Secret, ...]) -> str:
    lines = [ln for ln in stderr.decode(errors="replace").splitlines()
             if ln.strip() and "not located on encrypted media" not in ln]
    return scrub(lines[-1], secrets)[:200] if lines else "no message"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
