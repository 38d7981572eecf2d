"""``check`` of a fleet, for tests/bench.py (run inside a private D-Bus session).

The exchange is the simulator in another process (``binance-key-wizard sim``),
as Binance is another machine: every request waits ``LATENCY`` seconds there.
``FLEET`` keys are created through its admin route, their documents written to
a real Secret Service (gnome-keyring, started by bench.py in a private D-Bus
session) and their records to a throwaway registry. Then ``python -m wizard
check --json`` runs as cron would run it — a fresh process, start-up included —
once with the default concurrency and once with ``--concurrency 1``; the
simulator's request log gives requests, weight and any 429. The keyring is also
timed alone: every entry loaded one after another, then from 16 threads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FLEET = 200
LATENCY = 0.1
SERVICE = "binance-key-wizard"


def admin(base_url: str, method: str, path: str, body: Any = None) -> Any:
    """One call to the simulator's loopback admin route."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base_url}/_sim/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
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


def timed_check(base_url: str, *extra: str) -> dict[str, Any]:
    """``python -m wizard check --json`` in a fresh process: wall time, results, the sim's log."""
    admin(base_url, "DELETE", "log")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "wizard", "check", "--json", *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    log = admin(base_url, "GET", "log")
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
    }


def keyring_reads(labels: list[str]) -> dict[str, float]:
    """Every entry loaded through the Vault, one after another, then 16 at a time."""
    from wizard.vault import Vault

    vault = Vault(service=SERVICE)
    started = time.perf_counter()
    for label in labels:
        vault.load(label)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(vault.load, labels))
    parallel = time.perf_counter() - started
    return {"sequential": round(sequential, 3), "parallel": round(parallel, 3)}


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
        admin(sim.base_url, "POST", "faults", {"latency": LATENCY})
        one = timed_check(sim.base_url, labels[0])
        concurrent = timed_check(sim.base_url)
        sequential = timed_check(sim.base_url, "--concurrency", "1")
    finally:
        sim.stop()
    return {"fleet": FLEET, "latency": LATENCY, "seed_seconds": round(seeded, 2), "keyring": reads,
            "one": one, "concurrent": concurrent, "sequential": sequential}
