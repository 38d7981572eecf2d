"""Concurrent and interrupted `add` runs against the real Secret Service (issue 12).

Real `binance-key-wizard add` processes, the simulator, gnome-keyring (tests/run.sh's private
D-Bus session). Every round ends by comparing the keyring with the registry: every verified record
has a loadable secret of the recorded key, every pending record is reported by `check` with the
fix, and no secret is in the keyring without a record. An add process costs ~4 s on the shared
2-core machine, so the rounds are few; WIZARD_STRESS_ROUNDS=N runs N of each for a longer soak.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from contextlib import closing

import pytest

from tests.cli_helpers import ROOT

pytestmark = pytest.mark.secret_service
ROUNDS = int(os.environ.get("WIZARD_STRESS_ROUNDS", "0"))


def _usernames(service: str) -> set[str]:
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.get_default_collection(connection)
        return {item.get_attributes().get("username") for item in collection.search_items({"service": service})}


def _purge(service: str) -> None:
    import secretstorage

    with closing(secretstorage.dbus_init()) as connection:
        for item in secretstorage.get_default_collection(connection).search_items({"service": service}):
            item.delete()


@pytest.fixture
def stress(isolated_home, sim, secret_service_keyring, tmp_path):
    """A keyring service of this test's own (through a profile), its clean-up, and add helpers."""
    service = f"binance-key-wizard-stress-{uuid.uuid4().hex[:8]}"
    profile = tmp_path / "stress.toml"
    profile.write_text(f'[product]\nname = "Stress Test"\n\n[key]\npurpose = "read"\nrotation_days = 30\n'
                       f'keyring_service = "{service}"\n')
    pem = tmp_path / "ed25519.pem"
    pem.write_text(sim.keys["ed25519"].private_key_pem)
    helper = Stress(sim, service, str(profile), str(pem))
    yield helper
    _purge(service)


class Stress:
    """Starts `add` processes and compares the keyring with the registry afterwards."""

    def __init__(self, sim, service: str, profile: str, pem: str) -> None:
        self.sim, self.service, self.profile, self.pem = sim, service, profile, pem
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}

    def start_add(self, label: str, key_name: str = "read_only") -> subprocess.Popen:
        key = self.sim.keys[key_name]
        argv = [sys.executable, "-m", "wizard", "add", label, "--api-key", key.api_key,
                "--base-url", self.sim.base_url, "--profile", self.profile, "--json"]
        if key.key_type == "ed25519":
            argv += ["--private-key-file", self.pem]
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, env=self.env)
        if key.key_type == "hmac":
            proc.stdin.write(key.secret)
        proc.stdin.close()
        proc.stdin = None  # so communicate() doesn't flush the closed pipe
        proc.started = time.monotonic()  # type: ignore[attr-defined]
        return proc

    def wizard(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wizard", *argv], capture_output=True, text=True,
                              cwd=ROOT, env=self.env, timeout=60)

    def assert_consistent(self) -> dict[str, str]:
        """Keyring and registry agree, or `check` reports the difference; returns label -> state."""
        from wizard.registry import Registry, fingerprint
        from wizard.vault import Vault

        records = {r.label: r for r in Registry().all()}
        names = {n for n in _usernames(self.service) if not n.startswith("\x1f")}  # health probes aside
        orphans = {n.split("\x1f")[0] for n in names} - set(records)
        assert not orphans, f"secrets in the keyring with no record: {orphans}"
        states = {}
        for label, record in records.items():
            if getattr(record, "pending", False):
                checked = self.wizard("check", label, "--json")
                finding = json.loads(checked.stdout)["keys"][0]["findings"][0]
                assert checked.returncode == 3 and finding["id"] == "add_unfinished", checked.stdout
                assert f"forget {label}" in finding["fix"]
                states[label] = "pending"
            else:
                stored = Vault(service=self.service).load(label)
                assert fingerprint(stored.api_key) == record.fingerprint, label
                states[label] = "verified"
        return states


def _wait_for_pending(label: str, timeout: float = 30.0) -> float:
    """The moment (time.monotonic) the add's pending record appeared (polling the registry)."""
    from wizard.registry import Registry

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = Registry().get(label)
        if record is not None:
            return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"the add of {label!r} never wrote its pending record")


def _finish(proc: subprocess.Popen) -> tuple[int, dict]:
    out, err = proc.communicate(timeout=90)
    assert "Traceback" not in err, err
    return proc.returncode, (json.loads(out) if out.strip() else {})


def test_two_adds_of_the_same_label_one_wins_the_other_exits_2(stress):
    for round_ in range(max(ROUNDS, 3)):
        label = f"race-tracker-vps{round_}"
        procs = [stress.start_add(label, "read_only"), stress.start_add(label, "ed25519")]
        results = [_finish(p) for p in procs]
        codes = sorted(code for code, _ in results)
        assert codes == [0, 2], results
        loser = next(doc for code, doc in results if code == 2)
        assert {f["id"] for f in loser["findings"]} <= {"label_exists", "label_busy"}
        assert stress.assert_consistent()[label] == "verified"


def test_adds_of_different_labels_at_once_all_succeed(stress):
    for round_ in range(max(ROUNDS, 1)):
        procs = [stress.start_add(f"pair-tracker-vps{round_}-{n}", kind)
                 for n, kind in enumerate(("read_only", "ed25519", "read_only"))]
        results = [_finish(p) for p in procs]
        assert [code for code, _ in results] == [0, 0, 0], results
    assert set(stress.assert_consistent().values()) == {"verified"}


def test_an_add_killed_at_a_random_moment_leaves_nothing_unreported(stress):
    """SIGKILL, SIGINT and SIGTERM at a random moment of an add, round after round;
    every other round the moment is drawn from the short window between the pending record and
    the final one (store, read-back, signed call), which a uniform draw rarely hits."""
    rng = random.Random(os.environ.get("WIZARD_STRESS_SEED", str(time.time_ns())))
    signals = (signal.SIGKILL, signal.SIGINT, signal.SIGTERM)
    for round_ in range(max(ROUNDS, 4)):
        sig = signals[round_ % 3]
        label = f"killed-tracker-vps{round_}"
        proc = stress.start_add(label)
        if round_ % 2:  # anywhere from start-up to just past the store (measured in the round before)
            kill_at = proc.started + rng.uniform(0.3, max(1.0, 1.5 * pending_after))
        else:
            seen = _wait_for_pending(label)
            pending_after = seen - proc.started
            kill_at = seen + rng.uniform(0, 0.4)
        time.sleep(max(0.0, kill_at - time.monotonic()))
        proc.send_signal(sig)
        delay = kill_at - proc.started
        out, err = proc.communicate(timeout=60)
        assert "Traceback" not in err, err
        if sig != signal.SIGKILL:
            # 130/143 with one line; or the add had finished (0), or the signal came while no
            # handler was installed (start-up, reading stdin, shutdown) and the default action ran.
            handled = {signal.SIGINT: 130, signal.SIGTERM: 143}[sig]
            assert proc.returncode in (0, handled, -sig), (proc.returncode, err)
            if proc.returncode == handled:
                assert err.strip().count("\n") == 0, err
        state = stress.assert_consistent().get(label)
        print(f"{sig.name} after {delay:.2f}s: exit {proc.returncode}, left {state or 'nothing'}")  # -s
        if state == "pending":  # resolve it as the fix says, and the keyring is clean again
            assert stress.wizard("forget", label).returncode == 0
            assert label not in stress.assert_consistent()


def test_endless_stdin_ends_fast_with_bounded_memory(stress):
    key = stress.sim.keys["read_only"]
    argv = [sys.executable, "-c", "import resource, runpy, sys; "
            "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); sys.argv = ['wizard'] + sys.argv[1:]; "
            "runpy.run_module('wizard', run_name='__main__')",
            "add", "zero-tracker-vps", "--api-key", key.api_key, "--base-url", stress.sim.base_url,
            "--profile", stress.profile, "--json"]
    for extra, stdin in (([], "/dev/zero"), (["--private-key-file", "/dev/zero"], "/dev/null")):
        started = time.monotonic()
        with open(stdin, "rb") as source:
            proc = subprocess.run(argv + extra, stdin=source, capture_output=True, text=True, cwd=ROOT,
                                  env=stress.env, timeout=60)
        assert proc.returncode == 2, proc.stderr[-500:]
        assert json.loads(proc.stdout)["findings"][0]["id"] == "secret_too_large"
        assert time.monotonic() - started < 30
    assert stress.assert_consistent() == {}


def test_add_is_undumpable_while_it_waits_for_the_secret(stress):
    """While `add` blocks reading the secret, a thread of that process asks the kernel (the
    /proc status file has no such field) whether it may be dumped or ptraced."""
    key = stress.sim.keys["read_only"]
    code = ("import ctypes, sys, threading, time; from wizard.cli import main\n"
            "def report():\n    time.sleep(2); print('dumpable', ctypes.CDLL(None).prctl(3, 0, 0, 0, 0), "
            "file=sys.stderr, flush=True)\n"
            "threading.Thread(target=report, daemon=True).start()\n"
            f"main(['add', 'dump-tracker-vps', '--api-key', '{key.api_key}', '--base-url', '{stress.sim.base_url}', "
            f"'--profile', '{stress.profile}'])\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=stress.env)
    line = proc.stderr.readline()  # stdin stays open meanwhile: add is waiting for the secret
    proc.communicate(timeout=60)  # closes stdin: add ends with "no secret"
    assert line.strip() == "dumpable 0"


def _in_own_mount_namespace(setup: str, argv: list[str], env: dict, stdin: str = "") -> subprocess.CompletedProcess:
    """Run ``argv`` after ``setup`` (mount commands) in a private mount namespace (root only)."""
    script = f"set -e; {setup}; exec \"$@\""
    return subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *argv], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=90)


def _seed_verified_key(stress: Stress, label: str, key) -> None:
    from wizard.exchange.model import Environment
    from wizard.registry import KeyRecord, Registry, fingerprint
    from wizard.secret import Secret
    from wizard.vault import StoredKey, Vault

    env = Environment.custom(stress.sim.base_url)
    Vault(service=stress.service).store(label, StoredKey(key.api_key, "hmac", Secret(key.secret), env.name,
                                                         env.base_url))
    Registry().put(KeyRecord(label, env=env.name, base_url=env.base_url, fingerprint=fingerprint(key.api_key),
                             service=stress.service, profile=stress.profile))


@pytest.fixture
def mounts():
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("needs unshare -m (root) for a read-only or full file system")


def test_read_only_and_full_config_dirs(stress, mounts, isolated_home):
    """A read-only config dir: `check` still reports (a warning that nothing was recorded). A full
    disk: `add` stores nothing and says why (exit 3). Real mounts, not patched calls."""
    from wizard.registry import default_path

    config = default_path().parent
    key = stress.sim.keys["read_only"]
    add = [sys.executable, "-m", "wizard", "add", "disk-tracker-vps", "--api-key", key.api_key,
           "--base-url", stress.sim.base_url, "--profile", stress.profile, "--json"]
    _seed_verified_key(stress, "disk-tracker-vps", key)  # in-process: a subprocess add costs ~4 s here
    ro = _in_own_mount_namespace(f"mount --bind {config} {config}; mount -o remount,bind,ro {config}",
                                 [sys.executable, "-m", "wizard", "check", "disk-tracker-vps", "--json"], stress.env)
    assert ro.returncode == 0, ro.stdout + ro.stderr
    assert "registry_not_updated" in {f["id"] for f in json.loads(ro.stdout)["keys"][0]["findings"]}

    full_home = isolated_home / "full"
    full_home.mkdir()
    fill = (f"mount -t tmpfs -o size=64k tmpfs {full_home}; "
            f"dd if=/dev/zero of={full_home}/filler bs=4k 2>/dev/null || true")
    env = stress.env | {"XDG_CONFIG_HOME": str(full_home)}
    full = _in_own_mount_namespace(fill, [*add[:4], "full-tracker-vps", *add[5:]], env, stdin=key.secret)
    assert full.returncode == 3, full.stdout + full.stderr
    finding = json.loads(full.stdout)["findings"][0]
    assert finding["id"] == "registry_unusable" and "No space left" in finding["message"]
    assert "full-tracker-vps" not in _usernames(stress.service)
