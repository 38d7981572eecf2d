"""Drive the real wizard in demo mode and save a screenshot of every screen.

    .venv/bin/python tests/make_screenshots.py [--out screenshots] [--size 100x36]

Writes ``NN-name.svg`` and (with ``rsvg-convert``) ``NN-name.png`` for each
screen, then checks with ``zbarimg`` that the QR code on the label screen
decodes to the management URL printed beside it. Everything runs against a
seeded simulator (which keeps real time, so the wizard does too) and stores into
a REAL Secret Service: the script re-runs itself in a private D-Bus session with
an unlocked throwaway gnome-keyring (as tests/run.sh does), so the store screens
show what a user sees and never touch the developer's own keyring. Exit status
1 if a check fails or no Secret Service can be started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.test_app_harness import (  # noqa: E402
    enter_key,
    make_services,
    press_next,
    settle,
    to_label_screen,
    to_permissions,
)
from wizard.app import create_app  # noqa: E402
from wizard.exchange.model import Environment  # noqa: E402


class Shooter:
    """Saves numbered SVG (and PNG) screenshots of the app's current screen."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.count = 0
        self.files: dict[str, Path] = {}

    async def shot(self, pilot, name: str) -> Path:
        await settle(pilot)
        svg = self.out / f"{self.count:02d}-{name}.svg"
        picture = pilot.app.export_screenshot(title=f"binance-key-wizard — {name}")
        # rsvg-convert drops the leading space of each text span unless told to keep it,
        # which glues markers to their text in the PNG; browsers are unaffected.
        svg.write_text(picture.replace("<svg ", '<svg xml:space="preserve" ', 1))
        self.count += 1
        png = svg.with_suffix(".png")
        if shutil.which("rsvg-convert"):
            subprocess.run(["rsvg-convert", str(svg), "-o", str(png)], check=True)
        self.files[name] = png
        print(f"  {svg.name}")
        return png


PRIVATE_SESSION = "WIZARD_SCREENSHOT_SESSION"  # set inside the private D-Bus session


def in_private_keyring_session() -> int | None:
    """Re-run this script inside a private D-Bus session with an unlocked gnome-keyring.

    Returns the child's exit status, or None when already inside that session.
    """
    if os.environ.get(PRIVATE_SESSION):
        return None
    if not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")):
        print("dbus-run-session and gnome-keyring-daemon are needed (Debian: dbus, gnome-keyring); "
              "`bash tests/run.sh` installs them.", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as data_home:
        env = {**os.environ, PRIVATE_SESSION: "1", "XDG_DATA_HOME": data_home}
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
        script = ('printf screenshots | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; '
                  'exec "$0" "$@"')
        return subprocess.run(["dbus-run-session", "--", "sh", "-c", script, sys.executable, *sys.argv],
                              env=env).returncode


def secret_service():
    """The real Secret Service backend, proven with a probe write and read."""
    from keyring.backends import SecretService

    backend = SecretService.Keyring()
    backend.set_password("binance-key-wizard-selftest", "probe", "ok")
    if backend.get_password("binance-key-wizard-selftest", "probe") != "ok":
        raise RuntimeError("the Secret Service did not return what was stored")
    backend.delete_password("binance-key-wizard-selftest", "probe")
    return backend


def new_sim(seed: int):
    from wizard.sim import SimExchange

    sim = SimExchange(seed=seed)
    sim.start_in_thread(port=0)
    return sim


KEYRING = None  # the real Secret Service, set in main()


def demo_app(sim, tmp: Path, keyring=None, hostname: str = "laptop", **kwargs):
    # One real keyring for every run: each run's labels (from the host name) must differ.
    services = make_services(sim, keyring if keyring is not None else KEYRING, tmp)
    services.hostname = hostname
    services.clock = lambda: datetime.now(timezone.utc)  # the simulator runs on real time
    return create_app(services, env=Environment.custom(sim.base_url, simulated=True), **kwargs)


async def read_only_run(shooter: Shooter, tmp: Path, size: tuple[int, int]) -> str:
    """Welcome → … → summary with a read-only key; returns the label screen's management URL."""
    sim = new_sim(7)
    try:
        app = demo_app(sim, tmp / "read")
        async with app.run_test(size=size) as pilot:
            await shooter.shot(pilot, "welcome")
            await press_next(pilot)
            app.screen.query_one("#check-two_factor").value = True
            await shooter.shot(pilot, "checklist")
            for item in ("purpose_understood", "risk_understood", "withdraw_allowlist"):
                app.screen.query_one(f"#check-{item}").value = True
            await press_next(pilot)
            await shooter.shot(pilot, "label-qr")
            url = app.session.env.management_url
            key = sim.keys["read_only"]
            await enter_key(pilot, key.api_key, key.secret)
            app.screen.query_one("#api-key").scroll_visible(animate=False)
            await shooter.shot(pilot, "label-key-entry")
            await press_next(pilot)
            await shooter.shot(pilot, "permissions-ok")
            await press_next(pilot)
            await shooter.shot(pilot, "ip-allowlist")
            await press_next(pilot)
            await shooter.shot(pilot, "store-ready")
            await pilot.press("s")
            await shooter.shot(pilot, "store-done")
            await press_next(pilot)
            await shooter.shot(pilot, "test-read-only")
            await press_next(pilot)
            await shooter.shot(pilot, "summary")
        return url
    finally:
        sim.stop_in_thread()


async def problem_screens(shooter: Shooter, tmp: Path, size: tuple[int, int]) -> None:
    """The blocks and refusals: withdrawals on, a deleted key, a null keyring."""
    from keyring.backends.null import Keyring as NullKeyring

    sim = new_sim(8)
    try:
        app = demo_app(sim, tmp / "blocked")
        async with app.run_test(size=size) as pilot:
            key = sim.keys["withdrawals"]
            await to_permissions(pilot, key.api_key, key.secret)
            await shooter.shot(pilot, "permissions-blocked-withdrawals")
        app = demo_app(sim, tmp / "deleted")
        async with app.run_test(size=size) as pilot:
            key = sim.keys["deleted"]
            await to_permissions(pilot, key.api_key, key.secret)
            await shooter.shot(pilot, "permissions-deleted-key")
        app = demo_app(sim, tmp / "null", keyring=NullKeyring())
        async with app.run_test(size=size) as pilot:
            key = sim.keys["read_only"]
            await to_permissions(pilot, key.api_key, key.secret)
            await press_next(pilot)
            await press_next(pilot)
            await shooter.shot(pilot, "store-null-keyring-refused")
    finally:
        sim.stop_in_thread()


async def spot_run(shooter: Shooter, tmp: Path, size: tuple[int, int]) -> None:
    """A spot key generated here (Ed25519), created in the simulated panel, with the visible order."""
    sim = new_sim(9)
    try:
        app = demo_app(sim, tmp / "spot")
        async with app.run_test(size=size) as pilot:
            await to_label_screen(pilot, purpose="spot")
            app.screen.query_one("#generate").press()
            await settle(pilot)
            app.screen.query_one("#pubkey").scroll_visible(animate=False)
            await shooter.shot(pilot, "label-ed25519-generated")
            app.screen.query_one("#sim-create").press()
            await settle(pilot)
            app.screen.query_one("#sim-panel").scroll_visible(animate=False)
            await shooter.shot(pilot, "label-simulated-api-management")
            await press_next(pilot)
            await press_next(pilot)
            await shooter.shot(pilot, "ip-unrestricted-trading-expiry")
            await press_next(pilot)
            await pilot.press("s")
            await press_next(pilot)
            app.screen.query_one("#probe").press()
            await shooter.shot(pilot, "test-confirm-visible-order")
            await pilot.click("#yes")
            await shooter.shot(pilot, "test-spot-visible-order")
    finally:
        sim.stop_in_thread()


async def rotation_and_theme(shooter: Shooter, tmp: Path, size: tuple[int, int]) -> None:
    """Rotate a stored key (retire screen before and after deleting the old key); light theme."""
    sim = new_sim(10)
    keyring = KEYRING
    try:
        old, new = sim.keys["read_only"], sim.create_key(label="tracker-new", ip_allowlist=["127.0.0.1"])
        app = demo_app(sim, tmp / "rotate", keyring=keyring, hostname="vps1")
        async with app.run_test(size=size) as pilot:
            await to_permissions(pilot, old.api_key, old.secret)
            await press_next(pilot)
            await press_next(pilot)
            await pilot.press("s")
            await settle(pilot)
            label = app.session.label
        app = create_app(app.services, env=app.session.env, rotate_label=label)
        async with app.run_test(size=size) as pilot:
            await shooter.shot(pilot, "rotate-welcome")
            await to_label_screen(pilot)
            await enter_key(pilot, new.api_key, new.secret)
            for _ in range(3):
                await press_next(pilot)
            await pilot.press("s")
            await settle(pilot)
            for _ in range(3):
                await press_next(pilot)
            await shooter.shot(pilot, "rotate-retire-waiting")
            app.screen.query_one("#sim-delete-old").press()
            await shooter.shot(pilot, "rotate-retire-done")
        app = demo_app(sim, tmp / "light")
        app.theme = "textual-light"
        async with app.run_test(size=size) as pilot:
            key = sim.keys["futures"]
            await to_permissions(pilot, key.api_key, key.secret)
            await shooter.shot(pilot, "light-theme-permissions-blocked")
    finally:
        sim.stop_in_thread()


async def review_screen(shooter: Shooter, size: tuple[int, int]) -> None:
    from datetime import timedelta

    from tests.test_app_harness import FIXED_NOW
    from wizard.registry import KeyRecord
    from wizard.screens.review import ReviewApp

    records = [
        KeyRecord(label="read-laptop-2026-01-31", fingerprint="Ab12…xY9z", env="live",
                  created_at=FIXED_NOW - timedelta(days=20), last_verified_at=FIXED_NOW - timedelta(days=1),
                  permissions={"confirmed": True, "reading": True}, ip_restricted=True),
        KeyRecord(label="bot-spot-vps1-2025-09-01", purpose="spot", fingerprint="Qw34…pL0k", env="live",
                  created_at=FIXED_NOW - timedelta(days=152), last_verified_at=FIXED_NOW - timedelta(days=40),
                  permissions={"confirmed": True, "reading": True, "spot_trading": True}, ip_restricted=False,
                  trading_expires_at=FIXED_NOW + timedelta(days=3)),
    ]
    app = ReviewApp(records, now=FIXED_NOW)
    async with app.run_test(size=size) as pilot:
        await shooter.shot(pilot, "review")


def check_qr(png: Path, url: str) -> bool:
    """zbarimg must read the management URL from the label screen's picture."""
    if not shutil.which("zbarimg"):
        print("zbarimg not installed: QR check skipped", file=sys.stderr)
        return True
    result = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True)
    decoded = result.stdout.strip()
    ok = decoded == url
    print(f"QR in {png.name}: {'decodes to ' + decoded if ok else 'FAILED (' + repr(decoded) + ')'}")
    return ok


async def main(out: Path, size: tuple[int, int]) -> int:
    global KEYRING
    try:
        KEYRING = secret_service()
    except Exception as exc:  # noqa: BLE001 - no screenshots of a store into anything else
        print(f"no usable Secret Service ({type(exc).__name__}): screenshots need a real one", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("[0-9][0-9]-*"):
        old.unlink()
    shooter = Shooter(out)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for sub in ("read", "blocked", "deleted", "null", "spot", "rotate", "light"):
            (tmp / sub).mkdir()
        url = await read_only_run(shooter, tmp, size)
        await problem_screens(shooter, tmp, size)
        await spot_run(shooter, tmp, size)
        await rotation_and_theme(shooter, tmp, size)
        await review_screen(shooter, size)
    return 0 if check_qr(shooter.files["label-qr"], url) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--size", default="100x36", help="terminal columns x rows")
    options = parser.parse_args()
    outer = in_private_keyring_session()
    if outer is not None:
        sys.exit(outer)
    columns, rows = (int(n) for n in options.size.split("x"))
    sys.exit(asyncio.run(main(options.out, (columns, rows))))
