"""The sentinel secret, followed everywhere it could escape to.

A whole demo run with the sentinel as the key's secret must leave it in the
keyring and nowhere else (any 12 consecutive characters of it count: see
tests/leaks.py): not in any file under the throwaway HOME, XDG dirs
or temp dir, not in the simulator's request log, not in this process's (or any
child's) argv or environment, not on screen. A crash inside a worker while the
secret is in memory must not print it either.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak, assert_none_leak, files_holding
from tests.test_app_full import through_ip
from tests.test_app_harness import SIZE, make_app, make_services, press_next, settle, to_permissions
from wizard.app import DEMO_SERVICE, create_app
from wizard.exchange.model import Environment
from wizard.secret import Secret

LABEL = "read-laptop-2026-01-31"


def process_tree_texts() -> list[str]:
    """argv and environment of this process and every process it started."""
    texts = []
    pids = [os.getpid()]
    children = Path(f"/proc/{os.getpid()}/task")
    for task in children.iterdir() if children.exists() else ():
        child_file = task / "children"
        if child_file.exists():
            pids += [int(pid) for pid in child_file.read_text().split()]
    for pid in pids:
        for name in ("cmdline", "environ"):
            try:
                texts.append(Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace"))
            except OSError:
                continue
    texts.append(json.dumps(dict(os.environ)))
    return texts


async def test_full_run_leaves_the_sentinel_only_in_the_keyring(sim, memory_keyring, isolated_home, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR: temp files land in isolated_home
    assert Path(tempfile.gettempdir()).is_relative_to(isolated_home)
    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET  # the simulator now verifies signatures made with the sentinel
    app = make_app(sim, memory_keyring, isolated_home / ".config")
    screens: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        await through_ip(pilot, key.api_key, SENTINEL_SECRET, "read")
        screens.append(app.export_screenshot())
        assert_none_leak(process_tree_texts())  # mid-run
        await pilot.press("s")
        await settle(pilot)
        assert app.session.stored
        await press_next(pilot)
        screens.append(app.export_screenshot())
        await press_next(pilot)
        screens.append(app.export_screenshot())
        await press_next(pilot)
    assert app.return_code == 0
    stored = json.loads(memory_keyring.entries[(DEMO_SERVICE, LABEL)])
    assert stored["secret"] == SENTINEL_SECRET  # the one place it belongs

    assert files_holding(isolated_home, SENTINEL_SECRET) == []  # HOME, XDG dirs and TMPDIR
    assert (isolated_home / ".config" / "keys.json").exists()  # the registry was written, without it
    assert_no_leak(repr(sim.request_log))
    assert_none_leak(process_tree_texts())
    assert_none_leak(screens)
    assert_no_leak(app.clipboard)
    assert_no_leak(repr(app.session))


class ExplodingGateway:
    """A gateway whose permission read crashes with the secret in a local variable."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.inner.close()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    async def read_permissions(self):
        plain_secret = SENTINEL_SECRET  # what Textual's default crash report would print
        raise RuntimeError(f"unexpected failure ({len(plain_secret)} chars in scope)")


async def test_unexpected_failure_in_a_check_is_shown_without_the_secret(sim, memory_keyring, tmp_path, capfd):
    from wizard.app import default_gateway

    key = sim.keys["read_only"]
    key.secret = SENTINEL_SECRET
    services = make_services(sim, memory_keyring, tmp_path)
    services.gateway_factory = lambda env, material: ExplodingGateway(default_gateway(env, material))
    app = create_app(services, env=Environment.custom(sim.base_url, simulated=True))
    async with app.run_test(size=SIZE) as pilot:
        await to_permissions(pilot, key.api_key, SENTINEL_SECRET)
        await settle(pilot)
        assert app.screen.STEP == "permissions"  # still running: the failure is on the screen
        assert app.screen.query_one("#next").disabled  # not verified is never ok
        picture = app.export_screenshot()
    out, err = capfd.readouterr()
    assert_no_leak(picture + out + err)


async def test_crash_inside_a_worker_prints_no_secret(sim, memory_keyring, tmp_path, capfd):
    key = sim.keys["read_only"]
    app = make_app(sim, memory_keyring, tmp_path)

    async def crashing_worker() -> None:
        plain_secret = app.session.secret.reveal()  # a local Textual's default report would print
        raise RuntimeError(f"worker failed ({len(plain_secret)} chars in scope)")

    from textual.worker import WorkerFailed

    with pytest.raises(WorkerFailed):
        async with app.run_test(size=SIZE) as pilot:
            await to_permissions(pilot, key.api_key, key.secret)
            app.session.secret = Secret(SENTINEL_SECRET)
            app.run_worker(crashing_worker(), exclusive=True)
            await pilot.pause()
            await pilot.pause()
    out, err = capfd.readouterr()
    report = out + err
    assert "worker failed" in report  # the crash was reported...
    assert_no_leak(report)  # ...without the local holding the secret
    assert app.return_code == 1
