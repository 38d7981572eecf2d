"""The keyring daemon dies in the middle of an `add` (issue 12): a real gnome-keyring of this test's
own, on a private D-Bus, is killed with SIGKILL once the add has written its pending record. The
bus then starts a fresh, locked daemon, so the add can't finish or roll back; after the daemon is
back (unlocked, same files), `check` reports what was left and `forget` resolves it — or the add
had finished, and its key loads.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_helpers import ROOT
from tests.conftest import secret_service_required

pytestmark = pytest.mark.secret_service
PASSWORD = b"keyring-death-test"


class PrivateKeyring:
    """A dbus-daemon and a gnome-keyring-daemon that only this test talks to."""

    def __init__(self, data_home: str) -> None:
        self.bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        address = self.bus.stdout.readline().strip()
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
        self.env.update(DBUS_SESSION_BUS_ADDRESS=address, XDG_DATA_HOME=data_home)
        self.daemon: subprocess.Popen | None = None

    def start(self, attempts: int = 4) -> None:
        """(Re)start the daemon unlocked; --replace takes the name from one the bus auto-started.

        Now and then the daemon the bus auto-started (locked, when something called the
        Secret Service after the kill) keeps the name ("another secret service is running"),
        and its unlock prompt is dismissed (nobody is there to type): it is killed and the
        start made again."""
        for attempt in range(attempts):
            self.daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--replace", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env)
            self.daemon.stdin.write(PASSWORD)
            self.daemon.stdin.close()
            try:
                self.python("import keyring.backends.SecretService as s; "
                            "s.Keyring().get_password('probe', 'probe')", retries=20)
                return
            except AssertionError:
                if attempt == attempts - 1:
                    raise
                self.kill()
                self.kill_activated()

    def kill_activated(self) -> None:
        """SIGKILL every gnome-keyring-daemon the private bus started on its own."""
        address = f"DBUS_SESSION_BUS_ADDRESS={self.env['DBUS_SESSION_BUS_ADDRESS']}".encode()
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"gnome-keyring-daemon" not in f.read():
                        continue
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if address not in f.read().split(b"\0"):
                        continue
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                continue

    def kill(self) -> None:
        self.daemon.send_signal(signal.SIGKILL)
        self.daemon.wait()

    def python(self, code: str, retries: int = 1) -> str:
        for _ in range(retries):
            proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=self.env,
                                  cwd=ROOT, timeout=60)
            if proc.returncode == 0:
                return proc.stdout
            time.sleep(0.1)
        raise AssertionError(proc.stderr[-500:])

    def usernames(self) -> set[str]:
        code = ("import json, secretstorage; c = secretstorage.dbus_init(); "
                "col = secretstorage.get_default_collection(c); "
                "print(json.dumps([i.get_attributes().get('username') for i in "
                "col.search_items({'service': 'binance-key-wizard'})]))")
        return {n for n in json.loads(self.python(code)) if not n.startswith("\x1f")}

    def wizard(self, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "wizard", *argv], input=stdin, capture_output=True,
                              text=True, env=self.env, cwd=ROOT, timeout=90)

    def close(self) -> None:
        for proc in (self.daemon, self.bus):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        self.kill_activated()  # none may outlive the test


@pytest.fixture
def private_keyring(isolated_home):
    if not (shutil.which("dbus-daemon") and shutil.which("gnome-keyring-daemon")):
        message = "needs dbus-daemon and gnome-keyring-daemon (tests/run.sh installs them)"
        pytest.fail(message) if secret_service_required() else pytest.skip(message)
    keyring = PrivateKeyring(str(isolated_home / "keyring-data"))
    try:
        keyring.start()
        yield keyring
    finally:
        keyring.close()


def test_the_keyring_daemon_dying_mid_add_leaves_a_reported_pending_record(private_keyring, sim):
    from wizard.registry import Registry

    rng = random.Random(os.environ.get("WIZARD_STRESS_SEED", str(time.time_ns())))
    key = sim.keys["read_only"]
    for round_ in range(max(int(os.environ.get("WIZARD_STRESS_ROUNDS", "0")), 1)):
        label = f"daemon-tracker-vps{round_}"
        add = subprocess.Popen([sys.executable, "-m", "wizard", "add", label, "--api-key", key.api_key,
                                "--base-url", sim.base_url, "--json"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=private_keyring.env, cwd=ROOT)
        add.stdin.write(key.secret)
        add.stdin.close()
        add.stdin = None
        deadline = time.monotonic() + 30
        while Registry().get(label) is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.25))
        private_keyring.kill()
        out, err = add.communicate(timeout=90)
        assert add.returncode in (0, 3) and "Traceback" not in err, (add.returncode, out, err)
        private_keyring.start()
        record = Registry().get(label)
        names = private_keyring.usernames()
        print(f"daemon killed: add exit {add.returncode}, record {'pending' if record.pending else 'verified'}, "
              f"secret {'stored' if label in names else 'absent'}")  # -s
        assert {n.split("\x1f")[0] for n in names} <= {r.label for r in Registry().all()}  # no orphan
        if record.pending:
            checked = private_keyring.wizard("check", label, "--json")
            assert checked.returncode == 3
            assert json.loads(checked.stdout)["keys"][0]["findings"][0]["id"] == "add_unfinished"
            assert private_keyring.wizard("forget", label).returncode == 0
            assert label not in private_keyring.usernames() and Registry().get(label) is None
        else:
            assert add.returncode == 0 and label in names
