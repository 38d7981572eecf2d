"""Starting the wizard from the command line: the app a terminal run builds, and the review table.

Kept apart from :mod:`wizard.app` (the App itself): this is the one place that turns
``argparse`` options into collaborators, and where the real keyring and registry are named.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from wizard.app import DEMO_SERVICE, EXIT_QUIT, Services, WizardApp, create_app, default_gateway
from wizard.exchange.environment import Environment

if TYPE_CHECKING:
    from wizard.registry import KeyRecord


def run_wizard(args: argparse.Namespace) -> int:
    """``binance-key-wizard [--demo] [--env|--base-url] [--profile] [--purpose]``: 0 done, 130 quit."""
    try:
        app = app_from_args(args)
    except Exception as exc:  # noqa: BLE001 - a bad URL or profile: say which, exit 2
        return _refuse_options(exc)
    if not has_terminal():
        print(NO_TERMINAL, file=sys.stderr)
        return 2
    from wizard.hardening import harden_process

    harden_process()  # the wizard holds the secret in memory from step 5 on
    try:
        app.run()
    finally:
        app.stop_simulator()
    return exit_code_of(app)


def _refuse_options(exc: Exception) -> int:
    """Exit 2 for options the wizard can't start with. (wizard.urls is imported only here:
    the first frame doesn't wait for it.)"""
    from wizard.urls import UrlError

    if isinstance(exc, UrlError):  # worded and printed exactly as `add` does
        from wizard.review import Printer

        Printer(json_mode=False).error(exc.message, exc.fix)
        return 2
    from wizard.text import printable_lines

    print(f"binance-key-wizard: {printable_lines(str(exc))}", file=sys.stderr)  # it may quote the file
    return 2


# Without a terminal Textual has no input to wait on and spins at 100 % CPU: refuse first.
NO_TERMINAL = (
    "binance-key-wizard: the wizard needs an interactive terminal (standard input and output are not one).\n"
    "  Without a terminal use: `binance-key-wizard add LABEL --api-key KEY` (secret on stdin), "
    "`check [LABEL]`, `review [--json]`, `forget LABEL`, `sim --json`. See `binance-key-wizard --help`."
)


def has_terminal() -> bool:
    """True when stdin and stdout are both a terminal (what Textual needs to run)."""
    try:
        return bool(sys.stdin and sys.stdout and sys.stdin.isatty() and sys.stdout.isatty())
    except (ValueError, OSError):  # a closed stream
        return False


def exit_code_of(app: object) -> int:
    """The app's exit code: 130 quit, its own code, or 70 when it stopped on an internal error
    (Textual returns 1 then, which the CLI reserves for a policy violation)."""
    from wizard.crash import EXIT_SOFTWARE

    if getattr(app, "_exception", None) is not None:
        return EXIT_SOFTWARE
    code = getattr(app, "return_code", None)
    return EXIT_QUIT if code is None else code


def app_from_args(args: argparse.Namespace) -> WizardApp:
    """The wizard a terminal run starts. The profile and URL are checked now (a bad one is
    exit 2); the keyring and registry are built when first used, after the first frame."""
    profile = None
    if getattr(args, "profile", None):
        from wizard.profiles import load_profile

        profile = load_profile(args.profile)
    store_uri = getattr(args, "store", None)
    if store_uri:
        from wizard.stores import parse_store_uri

        store_uri = str(parse_store_uri(store_uri))  # a StoreURIError says what to write: exit 2
    demo = bool(getattr(args, "demo", False))
    if demo:
        # A placeholder until the simulator is up (see WizardApp._launch_sim).
        env = Environment.custom("http://127.0.0.1:0", simulated=True)
    else:
        env = Environment.from_name(getattr(args, "env", None) or "live", getattr(args, "base_url", None))
    return create_app(partial(terminal_services, demo=demo), env=env, purpose=getattr(args, "purpose", None),
                      profile=profile, start_sim=demo, store_uri=store_uri or None)


def terminal_services(*, demo: bool = False) -> Services:
    """Real collaborators: the OS keyring and the registry file (the demo's own, with --demo)."""
    from wizard.registry import Registry
    from wizard.vault import Vault

    if demo:
        from platformdirs import user_config_dir

        registry = Registry(Path(user_config_dir("binance-key-wizard")) / "demo-keys.json")
        return Services(gateway_factory=default_gateway, vault=Vault(service=DEMO_SERVICE), registry=registry)
    return Services(gateway_factory=default_gateway, vault=Vault(), registry=Registry())


def run_review_app(records: list[KeyRecord]) -> int:
    """``binance-key-wizard review`` on a terminal: a table of every managed key."""
    from wizard.screens.review import ReviewApp

    app = ReviewApp(records)
    app.run()
    return app.return_code or 0
