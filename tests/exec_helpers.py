"""Shared helpers for the ``exec`` tests (tests/test_exec*.py).

Keys are added in-process with ``add`` against the simulator (the ``cli``
fixture chain of tests/cli_helpers.py, on the in-memory keyring); then
``binance-key-wizard exec`` runs as a real process through
tests/exec_launcher.py, which receives the keyring's entries on stdin.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.keyrings import MemoryKeyring

ROOT = Path(__file__).resolve().parent.parent
CCXT_BOT = str(ROOT / "tests" / "bots" / "ccxt_balance.py")


def keyring_payload(store: MemoryKeyring) -> str:
    """The in-memory keyring's entries as the launcher reads them from stdin."""
    return json.dumps([[service, user, password] for (service, user), password in store.entries.items()])


def exec_argv(*argv: str) -> list[str]:
    """The launcher's command line for ``binance-key-wizard ARGV``."""
    return [sys.executable, "-m", "tests.exec_launcher", *argv]


def run_exec(store: MemoryKeyring, *argv: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """``binance-key-wizard ARGV`` as a real process, to completion."""
    environ = dict(os.environ, **env)
    environ.pop("PYTHON_KEYRING_BACKEND", None)
    return subprocess.run(exec_argv(*argv), input=keyring_payload(store), capture_output=True, text=True,
                          cwd=ROOT, env=environ, timeout=timeout)


def start_exec(store: MemoryKeyring, *argv: str, **popen: Any) -> subprocess.Popen[str]:
    """``binance-key-wizard ARGV`` started in the background; the keyring is already written."""
    environ = dict(os.environ)
    environ.pop("PYTHON_KEYRING_BACKEND", None)
    proc = subprocess.Popen(exec_argv(*argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=environ, **popen)
    assert proc.stdin is not None
    proc.stdin.write(keyring_payload(store))
    proc.stdin.close()
    proc.stdin = None  # so communicate() doesn't flush a closed pipe
    return proc


def pieces(secret: str, size: int = 12) -> list[str]:
    """Every run of ``size`` consecutive characters of ``secret``: a leak of any part is found."""
    return [secret[i:i + size] for i in range(len(secret) - size + 1)]


def holds_a_piece(text: str, secret: str) -> bool:
    """Whether ``text`` contains any 12 consecutive characters of ``secret``."""
    return any(piece in text for piece in pieces(secret))


@pytest.fixture
def added(cli, sim, tmp_path):
    """``add`` sim key NAME under LABEL in-process (HMAC secret on stdin, Ed25519 from a file)."""

    def run(name: str, label: str, *extra: str) -> None:
        key = sim.keys[name]
        argv = ["add", label, "--api-key", key.api_key, "--base-url", sim.base_url, *extra]
        if key.restrictions.get("enableSpotAndMarginTrading"):
            argv += ["--purpose", "spot"]
        stdin = ""
        if key.key_type == "ed25519":
            pem = tmp_path / f"{label}.pem"  # outside the scanned HOME
            pem.write_text(key.private_key_pem)
            argv += ["--private-key-file", str(pem)]
        else:
            stdin = key.secret + "\n"
        result = cli(*argv, stdin=stdin)
        assert result.code == 0, result.out + result.err

    return run
