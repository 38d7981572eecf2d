"""Shared helpers for the CLI tests (tests/test_cli.py, tests/test_cli_check.py).

The fast tier runs ``wizard.cli.main`` in-process with the in-memory keyring
installed through keyring's own ``set_keyring`` (the ``use_keyring``, ``store``,
``cli`` and ``add_key`` fixtures; a test module imports every fixture of the
chain it uses so pytest can resolve it); the registry lives in the throwaway XDG config
dir of ``isolated_home``. Also here: the ``Result`` of one run, the label and
wrong secret several tests share, and small registry, port and profile helpers.
"""

from __future__ import annotations

import io
import json
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keyring
import keyring.core
import pytest

from tests.conftest import SENTINEL_SECRET
from tests.keyrings import MemoryKeyring
from wizard.cli import main

ROOT = Path(__file__).resolve().parent.parent
LABEL = "tracker-laptop"
WRONG_SECRET = (SENTINEL_SECRET + "0" * 64)[:64]  # secret-shaped, and carries the sentinel


@dataclass
class Result:
    """One CLI run: exit code, captured streams, and stdout parsed as JSON when it is JSON."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)

    def ids(self) -> set[str]:
        """Finding ids of an ``add --json`` object or of every key of ``check --json``."""
        data = self.json
        keys = data["keys"] if "keys" in data else [data]
        return {f["id"] for key in keys for f in key["findings"]}


@pytest.fixture
def use_keyring():
    """Install a keyring backend for in-process runs through keyring's public API; restore after."""
    previous = keyring.core._keyring_backend
    installed: list[Any] = []

    def install(backend: Any) -> Any:
        keyring.set_keyring(backend)
        installed.append(backend)
        return backend

    yield install
    keyring.core._keyring_backend = previous


@pytest.fixture
def store(use_keyring, memory_keyring) -> MemoryKeyring:
    """The in-memory keyring every in-process command of this test uses."""
    return use_keyring(memory_keyring)


@pytest.fixture
def cli(isolated_home, store, monkeypatch, capsys):
    """Run ``binance-key-wizard ARGS`` in-process with ``stdin`` as standard input."""

    def run(*argv: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(list(argv))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.fixture
def add_key(cli, sim):
    """``add`` a sim key (its own secret on stdin) against the sim; returns the Result."""

    def run(key_name: Any, label: str = LABEL, *extra: str) -> Result:
        key = sim.keys[key_name] if isinstance(key_name, str) else key_name
        return cli("add", label, "--api-key", key.api_key, "--base-url", sim.base_url, "--json", *extra,
                   stdin=key.secret + "\n")

    return run


def registry_labels() -> list[str]:
    from wizard.registry import Registry

    return [record.label for record in Registry().all()]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_profile(tmp_path: Path, *, purpose: str = "read", require_ip: bool = False, name: str = "acme") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(
        f'[product]\nname = "Acme Tracker"\n\n[key]\npurpose = "{purpose}"\nrotation_days = 30\n\n'
        f"[ip]\negress = [\"203.0.113.10\"]\nrequire_restriction = {str(require_ip).lower()}\n"
    )
    return path
