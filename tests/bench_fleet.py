"""``check`` of a fleet, for tests/bench.py (run inside a private D-Bus session).

The exchange is the simulator in another process (``binance-key-wizard sim``),
as Binance is another machine: every request waits ``LATENCY`` seconds there,
and the first one on each new connection ``HANDSHAKE_RTTS`` round trips more
(TCP's handshake and TLS 1.3's, which a kept connection doesn't pay again).
``FLEET`` keys are created through its admin route, their documents written to
a real Secret Service (gnome-keyring, started by bench.py in a private D-Bus
session) and their records to a throwaway registry. Then ``python -m wizard
check --json`` runs as cron would run it — a fresh process, start-up included —
once with the default concurrency and once with ``--concurrency 1``; the
simulator's request log gives requests, weight and any 429. The keyring is also
timed alone: every entry loaded one after another, then from 16 threads.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
FLEET = 200
LATENCY = 0.1
HANDSHAKE_RTTS = 2
NETWORK = {"latency": LATENCY, "handshake_rtts": HANDSHAKE_RTTS}
SERVICE = "binance-key-wizard"


def admin(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """One call to the simulator's loopback admin route."""
    data = None if body is None else json.dumps(body).encode()
    from tests.bench_flows import ADMIN_TOKENS

    request = urllib.request.Request(f"{base_url}/_sim/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              "X-Sim-Token": ADMIN_TOKENS[base_url]})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read().decode()
    return json.loads(text) if text else None


def seed(base_url: str, backend: Any, count: int) -> list[str]:
    """``count`` read-only keys on the simulator, in the keyring and in the registry."""
    from wizard.registry import KeyRecord, Registry, fingerprint
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey

    labels, records = [], []
    for i in range(count):
        label = f"fleet-{i:04d}"
        key = admin(base_url, "POST", "keys", {"label": label, "reading": True})
        doc = StoredKey(key["api_key"], "hmac", Secret(key["secret"]), env="sim", base_url=base_url)
        backend.set_password(SERVICE, label, doc.to_json().reveal())
        records.append(KeyRecord(label=label, purpose="read", env="sim", base_url=base_url,
                                 fingerprint=fingerprint(key["api_key"]), service=SERVICE))
        labels.append(label)
    Registry().put_many(records)
    return labels


def seed_openbao(base_url: str, uri: str, count: int) -> list[str]:
    """``count`` read-only keys on the simulator, in OpenBao at ``uri`` and in the registry."""
    from wizard.registry import KeyRecord, Registry, fingerprint
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.stores import open_store

    store = open_store(uri)
    labels, records = [], []
    for i in range(count):
        label = f"bao-{i:04d}"
        key = admin(base_url, "POST", "keys", {"label": label, "reading": True})
        store.store(label, StoredKey(key["api_key"], "hmac", Secret(key["secret"]), env="sim", base_url=base_url))
        records.append(KeyRecord(label=label, purpose="read", env="sim", base_url=base_url, store=uri,
                                 fingerprint=fingerprint(key["api_key"])))
        labels.append(label)
    Registry().put_many(records)
    return labels


@contextlib.contextmanager
def openbao_server() -> Iterator[Any]:
    """``bao server -dev -dev-tls`` as tests/store_fixtures.py starts it; None without the binary."""
    import secrets
    import signal
    import tempfile

    from tests.cli_helpers import free_port
    from tests.store_fixtures import OpenBao, _bao_binary, _wait_ready

    binary = _bao_binary()
    if binary is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="bench-bao-") as tmp:
        home = Path(tmp)
        (home / "tls").mkdir()
        address, token = f"127.0.0.1:{free_port()}", secrets.token_hex(16)
        server = OpenBao(f"https://{address}", token, home, home / "tls" / "vault-ca.pem", binary)
        env = {**os.environ, "HOME": str(home), "BAO_DEV_ROOT_TOKEN_ID": token}
        with open(home / "server.log", "wb") as log:
            process = subprocess.Popen(
                [binary, "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={home / 'tls'}",
                 f"-dev-listen-address={address}", "-dev-no-store-token"],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            try:
                _wait_ready(server, process, time.monotonic() + 30)
                yield server
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)


def openbao_fleet(sim: Any) -> dict[str, Any] | None:
    """The same check with every key in a real OpenBao (None when ``bao`` is not installed)."""
    with openbao_server() as bao:
        if bao is None:
            return None
        os.environ["VAULT_TOKEN"], os.environ["VAULT_CACERT"] = bao.root_token, str(bao.ca_cert)
        try:
            admin(sim.base_url, "POST", "faults", {"latency": 0})
            labels = seed_openbao(sim.base_url, bao.uri("fleet"), FLEET)
            admin(sim.base_url, "POST", "faults", NETWORK)
            concurrent = timed_check(sim.base_url, *labels)
            sequential = timed_check(sim.base_url, *labels, "--concurrency", "1")
        finally:
            del os.environ["VAULT_TOKEN"], os.environ["VAULT_CACERT"]
    return {"concurrent": concurrent, "sequential": sequential}


def timed_check(base_url: str, *extra: str) -> dict[str, Any]:
    """``python -m wizard check --json`` in a fresh process: wall time, results, the sim's log."""
    admin(base_url, "DELETE", "log")
    connections = admin(base_url, "GET", "state")["connections_opened"]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "wizard", "check", "--json", *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    log = admin(base_url, "GET", "log")
    connections = admin(base_url, "GET", "state")["connections_opened"] - connections
    entries = log["entries"] if isinstance(log, dict) else log
    try:
        keys = json.loads(done.stdout)["keys"]
    except (ValueError, KeyError):
        raise RuntimeError(f"check failed ({done.returncode}): {done.stdout[-500:]} {done.stderr[-1500:]}") from None
    return {
        "seconds": round(seconds, 3), "exit_code": done.returncode, "ok": sum(1 for k in keys if k["ok"]),
        "keys": len(keys), "requests": len(entries), "weight": sum(e["weight"] for e in entries),
        "status_429": sum(1 for e in entries if e["status"] in (429, 418)),
        "time_syncs": sum(1 for e in entries if e["path"] == "/api/v3/time"),
        "connections": connections,
    }


def keyring_reads(labels: list[str]) -> dict[str, float]:
    """Every entry loaded through the Vault: one after another as keyring reads them (a new
    D-Bus session each), from 8 threads that way, and from 8 threads on kept sessions."""
    from wizard.fleet import READ_CONNECTIONS
    from wizard.vault import Vault

    vault = Vault(service=SERVICE)
    started = time.perf_counter()
    for label in labels:
        vault.load(label)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(vault.load, labels))
    parallel = time.perf_counter() - started
    started = time.perf_counter()
    with vault.pooled_reads(READ_CONNECTIONS), ThreadPoolExecutor(8) as pool:
        list(pool.map(vault.load, labels))
    pooled = time.perf_counter() - started
    return {"sequential": round(sequential, 3), "parallel": round(parallel, 3), "pooled": round(pooled, 3)}


def measure() -> dict[str, Any]:
    """Seed the fleet, then time the checks; the figures as a dict."""
    import keyring
    from keyring.backends import SecretService

    from tests.bench_flows import RemoteSim

    backend = SecretService.Keyring()
    keyring.set_keyring(backend)
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.SecretService.Keyring"  # for the check processes
    sim = RemoteSim()
    try:
        started = time.perf_counter()
        labels = seed(sim.base_url, backend, FLEET)
        seeded = time.perf_counter() - started
        reads = keyring_reads(labels)
        admin(sim.base_url, "POST", "faults", NETWORK)
        one = timed_check(sim.base_url, labels[0])
        concurrent = timed_check(sim.base_url, *labels)
        sequential = timed_check(sim.base_url, *labels, "--concurrency", "1")
        bao = openbao_fleet(sim)
    finally:
        sim.stop()
    return {"fleet": FLEET, "latency": LATENCY, "handshake_rtts": HANDSHAKE_RTTS, "seed_seconds": round(seeded, 2), "keyring": reads,
            "one": one, "concurrent": concurrent, "sequential": sequential, "openbao": bao, "pacing": pacing()}


def pacing(count: int = 500, limit: int = 100, window: int = 1) -> dict[str, Any]:
    """``count`` keys against a simulator allowing ``limit`` weight per ``window`` s, in-process
    with the in-memory keyring: how many 429s, and how long the pacer made the run wait."""
    import contextlib
    import io
    import tempfile

    import keyring

    from tests.fleet_helpers import seed_fleet
    from tests.keyrings import MemoryKeyring
    from wizard.cli import main
    from wizard.exchange.pacing import pacer_for
    from wizard.registry import Registry
    from wizard.sim import SimExchange

    sim = SimExchange(weight_limit=limit, weight_window_s=window)
    sim.start_in_thread(port=0)
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pacing-") as home:
            os.environ["XDG_CONFIG_HOME"] = home
            seed_fleet(sim, backend, Registry(), count)
            out = io.StringIO()
            started = time.perf_counter()
            with contextlib.redirect_stdout(out):
                code = main(["check", "--json", "--max-weight", str(limit)])
            seconds = time.perf_counter() - started
        stats = pacer_for(f"{sim.base_url}/api").stats
        statuses = [e.status for e in sim.request_log]
    finally:
        sim.stop_in_thread()
    return {"keys": count, "limit": limit, "window": window, "exit_code": code, "seconds": round(seconds, 2),
            "requests": len(statuses), "status_429": statuses.count(429) + statuses.count(418),
            "waits": stats.waits, "highest_used": stats.highest_used}
