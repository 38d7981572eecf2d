"""The subcommands over keys already managed: ``review`` (what is due) and ``rotate``.

Split out of :mod:`wizard.commands`, which still exports both (``wizard.cli``
dispatches ``getattr(commands, name)``); same exit codes as documented there.
"""

from __future__ import annotations

import argparse
import sys

from wizard import lifecycle
from wizard.cli_input import UsageError
from wizard.commands_common import (
    _env_override,
    _install_crash_guard,
    gateway_factory,
    load_profile_arg,
    open_registry,
    open_vault,
    record_profile,
    run,
    store_arg,
)
from wizard.lifecycle import EXIT_CREDENTIALS, EXIT_OK, EXIT_USAGE, LifecycleError
from wizard.review import Printer

# --- review ----------------------------------------------------------------------------------


def review(args: argparse.Namespace) -> int:
    """Every managed key and what is due; a Textual screen on a terminal, a table otherwise."""
    from wizard import review as review_mod
    from wizard.registry import RegistryError
    from wizard.stores import StoreError

    try:
        demo = bool(getattr(args, "demo", False))
        store = store_arg(args)
        if store is not None:  # the keys in that store, known here or not
            from wizard.stores.shared import review_records

            from wizard.progress import progress_bar

            # Every key this machine has no record of is read from the store: long for a fleet.
            bar = progress_bar(len(store.labels() or []), what="reading keys", json_mode=args.json)
            try:
                records = review_records(store, open_registry(demo=demo), progress=bar.update if bar else None)
            finally:
                if bar is not None:
                    bar.close()
        else:
            records = open_registry(demo=demo).all()
    except UsageError as exc:
        Printer(json_mode=False).error(exc.message, exc.fix)
        return EXIT_USAGE
    except StoreError as exc:
        Printer(json_mode=False).error(exc.problem.message, lifecycle.keyring_unusable(exc.problem).fix)
        return EXIT_CREDENTIALS
    except RegistryError as exc:
        Printer(json_mode=False).error(str(exc))
        return EXIT_CREDENTIALS
    if args.json:
        review_mod.print_json(records)
        return EXIT_OK
    if sys.stdout.isatty() and sys.stdin.isatty() and records:
        try:
            from wizard.launch import run_review_app

            return int(run_review_app(records) or 0)
        except ImportError:  # a build without the Textual review screen: the table says the same
            pass
    review_mod.print_table(records)
    return EXIT_OK


# --- rotate ----------------------------------------------------------------------------------


def rotate(args: argparse.Namespace) -> int:
    """Launch the wizard pre-filled from the old key; it replaces it and proves the old one dead.

    The label and the keyring are checked first (exit 3), then that this is a
    terminal (exit 2): the old key is never touched here.
    """
    _install_crash_guard()
    out = Printer(json_mode=False)
    from wizard.registry import RegistryError

    demo = bool(getattr(args, "demo", False))
    registry = open_registry(demo=demo)
    try:
        record = registry.get(args.label)
        from wizard.stores import open_store_for

        vault = open_store_for(record) if record is not None else open_vault()
        env = _env_override(args)
        start = run(lifecycle.begin_rotation(vault, registry, args.label, env=env))
        profile = load_profile_arg(getattr(args, "profile", None)) or record_profile(start.old_record)
    except UsageError as exc:
        out.usage_error(args.label, exc)
        return EXIT_USAGE
    except LifecycleError as exc:
        out.error(exc.finding.message, exc.finding.fix)
        return exc.exit_code
    except RegistryError as exc:
        out.error(str(exc))
        return EXIT_CREDENTIALS
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        out.error("rotate needs a terminal: it walks you through creating the new key in Binance.",
                  "Run it in an interactive terminal (not piped or in a script).")
        return EXIT_USAGE
    from wizard.app import Services, create_app

    services = Services(gateway_factory=gateway_factory, vault=vault, registry=registry)
    # --demo: a fresh simulator, given the old key, so the whole rotation can be rehearsed.
    app = create_app(services, env=start.env, purpose=start.old_record.purpose, profile=profile,
                     rotate_label=args.label, old_key=start.old_key.key_material(), start_sim=demo)
    try:
        app.run()
    finally:
        app.stop_simulator()
    from wizard.launch import exit_code_of

    return exit_code_of(app)
