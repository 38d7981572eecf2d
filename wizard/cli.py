"""Command line: parse arguments, then hand off to the module that does the work.

Only ``argparse`` is imported here so ``--help`` and ``--version`` are instant;
each subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from wizard import __version__
from wizard.handoff import presets_help, preset_names  # a table, no imports: --help stays instant

EXIT_CODES = """\
exit codes (add, check, exec):
  0  ok (warnings allowed)
  1  policy violation: a dangerous or unneeded permission, or a required IP
     restriction missing
  2  usage error or malformed input
  3  no stored credentials for the label, or the store is unusable
  4  key rejected by the exchange: unknown or deleted key, bad signature,
     IP not allowed, permission missing
  5  exchange unreachable or unusable after safe retries: network, timeout,
     5xx, rate limit or ban, region block, an answer that makes no sense
  6  check --strict only: no failure, but a warning that needs action soon
     (Binance unticks trading within a week, or the rotation date has passed)
 70  internal error (a bug): one line on stderr and a report without secrets
 130  interrupted (Ctrl+C); 143 terminated (SIGTERM); `check` and `review`
     report anything left unfinished
exec: once the key passed, the bot replaces the wizard, so its exit code is
the bot's own; 126 COMMAND is not executable, 127 COMMAND not found.
"""

STORES = """\
stores (--store URI; default: the OS keyring):
  keyring, keyring:SERVICE       the OS keyring (Keychain, Credential Manager,
                                 Secret Service), under a service name
  systemd-creds:/DIR             one server: DIR/LABEL.cred, encrypted by
                                 systemd-creds (TPM2 if present, else host key)
  vault+https://HOST:PORT/MOUNT/PREFIX
                                 a fleet: Vault/OpenBao KV v2 at MOUNT/PREFIX/LABEL;
                                 token from VAULT_TOKEN or BAO_TOKEN, or AppRole
                                 VAULT_ROLE_ID + VAULT_SECRET_ID (never argv);
                                 vault+http:// only to 127.0.0.1/localhost
"""

DESCRIPTION = """\
Set up a least-privilege, withdraw-disabled Binance API key, store it in the
OS keyring and prove it works. With no subcommand, runs the interactive wizard.
"""


def port_number(text: str) -> int:
    """``--port``: 0 (any free port) to 65535; argparse turns the error into usage + exit 2."""
    if not text.strip().isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1-65535, or 0 for any free one")
    return int(text)


def _add_store_option(parser: argparse.ArgumentParser, help: str) -> None:
    parser.add_argument("--store", metavar="URI", default=argparse.SUPPRESS, help=help)


def _add_exchange_options(parser: argparse.ArgumentParser, *, subcommand: bool = False) -> None:
    # On a subcommand the defaults are suppressed: argparse would otherwise let
    # the subparser's None overwrite a value given before the subcommand name
    # (`binance-key-wizard --base-url URL check`).
    default = argparse.SUPPRESS if subcommand else None
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--env",
        choices=("live", "testnet", "demo"),
        default=default,
        help="Binance environment (default: live, or what was recorded at setup)",
    )
    group.add_argument(
        "--base-url",
        metavar="URL",
        default=default,
        help="a Binance-compatible root serving /api and /sapi (e.g. the simulator)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        default=default,
        help="a bot product's profile (TOML)"
        + (" (default: the one recorded at setup)" if subcommand else ""),
    )


class _Undecided(argparse.ArgumentParser):
    """A parser whose errors are raised, not printed: the full parser words them."""

    def error(self, message: str) -> NoReturn:
        raise argparse.ArgumentError(None, message)


def _wizard_parser(kind: type[argparse.ArgumentParser] = argparse.ArgumentParser,
                   **options: Any) -> argparse.ArgumentParser:
    """The options of the interactive wizard itself (no subcommands yet)."""
    parser = kind(
        prog="binance-key-wizard",
        description=DESCRIPTION,
        epilog=EXIT_CODES + "\n" + STORES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **options,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="rehearse on the built-in simulated exchange (no Binance account needed)",
    )
    parser.add_argument("--purpose", choices=("read", "spot"), help="pre-select the key's purpose")
    parser.add_argument("--store", metavar="URI", help="where the wizard stores the key (see stores below)")
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error, print the report (no secrets) on stderr, not to a file")
    _add_exchange_options(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The full parser; exposed so tests and --help agree."""
    parser = _wizard_parser()
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = sub.add_parser("sim", help="run the simulated Binance exchange in the foreground")
    sim.add_argument("--port", type=port_number, default=0, help="port on 127.0.0.1 (default: any free)")
    sim.add_argument("--json", action="store_true", help="print one JSON line: base_url, admin_token and keys")

    add = sub.add_parser(
        "add",
        help="validate and store a key without the TUI (secret read from stdin)",
        description="Validate a key exactly as the wizard does (permissions, IP restriction, a "
        "signed call) and store it (OS keyring, or --store) only if it passes. The secret key is read "
        "from standard input (a hidden prompt on a terminal), never from the command line.",
        epilog=EXIT_CODES + "\n" + STORES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("label", help="a label that names the tool and machine, e.g. tracker-laptop")
    add.add_argument("--api-key", required=True, metavar="KEY", help="the 64-character API key")
    add.add_argument(
        "--purpose",
        choices=("read", "spot"),
        default=argparse.SUPPRESS,
        help="what the key is for (default: the profile's purpose, else read)",
    )
    add.add_argument(
        "--private-key-file",
        metavar="PATH",
        help="Ed25519 private key (PKCS#8 PEM) instead of an HMAC secret on stdin",
    )
    add.add_argument("--json", action="store_true", help="machine-readable result")
    _add_store_option(add, "where to store the key (default: the profile's [store] uri, else the OS keyring)")
    _add_exchange_options(add, subcommand=True)

    check = sub.add_parser(
        "check",
        help="re-validate stored keys against the exchange",
        description="Re-validate stored keys against the live exchange with the purpose and "
        "policy recorded at setup (2 requests per healthy key). Exits with the worst result. "
        "With --store, every key in that store, including keys this machine never added.",
        epilog=EXIT_CODES + "\n" + STORES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("labels", nargs="*", metavar="LABEL", help="default: every managed key")
    check.add_argument("--json", action="store_true", help="machine-readable result")
    _add_store_option(check, "check every key in this store (default: the keys this machine manages)")
    check.add_argument("--strict", action="store_true",
                       help="also fail (exit 6) when trading permission lapses within a week or a "
                       "rotation is due (for timers and monitoring)")
    check.add_argument("--concurrency", type=int, metavar="N", default=None,
                       help="keys checked at once (default 32)")
    check.add_argument("--max-weight", type=int, metavar="N", default=None,
                       help="request weight per minute this run may use of the IP's limit, to leave room "
                            "for bots on the same IP (default: Binance's limits less a margin)")
    _add_exchange_options(check, subcommand=True)

    review = sub.add_parser(
        "review",
        help="list every managed key and what is due",
        description="Every managed key: purpose, key fingerprint, age, last verified, "
        "permissions, IP restriction, trading expiry and rotation due date. No exchange calls. "
        "With --store, every key in that store, and which facts this machine does not know.",
        epilog=STORES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.add_argument("--json", action="store_true", help="machine-readable result")
    _add_store_option(review, "list every key in this store (default: the keys this machine manages)")

    rotate = sub.add_parser(
        "rotate",
        help="replace a key through the wizard, then prove the old one is dead",
        description="Walk through the wizard for a new key pre-filled from LABEL's settings. The "
        "old key stays stored until the new one is verified; the rotation is done only when "
        "the exchange rejects the old key. Needs a terminal.",
    )
    rotate.add_argument("label")
    _add_exchange_options(rotate, subcommand=True)
    _add_handoff_parsers(sub)

    forget = sub.add_parser(
        "forget",
        help="remove what an unfinished add left behind (stored key and record)",
        description="Delete LABEL's stored key and registry record. Meant for an add that was "
        "interrupted (`check` and `review` name them); a verified key needs --yes. The key stays "
        "valid in Binance until you delete it there.",
    )
    forget.add_argument("label")
    forget.add_argument("--yes", action="store_true", help="also remove a verified key")
    return parser


# Subcommands whose trailing `-- COMMAND [ARGS...]` is the bot's command line, never parsed here.
HANDOFF_COMMANDS = ("exec", "systemd-unit")


def _add_handoff_parsers(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser(
        "exec",
        help="start a bot with the key in its environment, after checking the key",
        usage="binance-key-wizard exec LABEL [--as PRESET] [--store URI] [--allow-unverified] "
        "-- COMMAND [ARGS...]",
        description="Re-check LABEL's key exactly as `check` does (2 requests), then replace this "
        "process with COMMAND, the key in its environment and nowhere else (not on any command line, "
        "not in a file). Refuses to start the bot with a key that may do too much (exit 1), that the "
        "exchange rejects (4), or that could not be checked (5, unless --allow-unverified). All the "
        "wizard's messages go to stderr; the bot's stdout, exit code and signals are its own.",
        epilog=EXIT_CODES + presets_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("label", help="the label the key is stored under")
    run.add_argument("--as", dest="preset", choices=preset_names(), default=preset_names()[0],
                     help="which environment variables the bot reads (default: generic)")
    run.add_argument("--store", metavar="URI", help="where the key is stored (default: $CREDENTIALS_DIRECTORY "
                     "under a systemd unit, else where this machine's registry says, else the OS keyring)")
    run.add_argument("--allow-unverified", action="store_true",
                     help="start the bot even when the exchange can't be reached to check the key (says so)")

    unit = sub.add_parser(
        "systemd-unit",
        help="print a systemd unit that runs a bot with a key from systemd credentials",
        usage="binance-key-wizard systemd-unit LABEL --name UNIT [--user USER] [--watch] "
        "[--on-failure UNIT] [--output-dir DIR] -- COMMAND [ARGS...]",
        description="Print a hardened systemd service UNIT.service whose ExecStart is "
        "`binance-key-wizard exec LABEL -- COMMAND...`, with LABEL's encrypted credential loaded by "
        "LoadCredentialEncrypted= (the key must be in a systemd-creds:DIR store). With --watch, also "
        "print UNIT-keycheck.service and UNIT-keycheck.timer, which run `check LABEL` daily, so a key "
        "that turns dangerous or is about to be cut off is noticed within a day (`check --strict`). "
        "Prints the units (or writes them with --output-dir); it never installs or starts anything.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    unit.add_argument("label", help="the label the key is stored under")
    unit.add_argument("--name", required=True, metavar="UNIT", help="the bot's unit name, e.g. freqtrade-bot")
    unit.add_argument("--user", metavar="USER", help="run the bot as USER (default: the user running this)")
    unit.add_argument("--watch", action="store_true", help="also print a daily key-check timer")
    unit.add_argument("--on-failure", metavar="UNIT",
                      help="unit started when the daily check (or the bot's service) fails, e.g. "
                      "alert-mail@%%n (with --watch)")
    unit.add_argument("--output-dir", metavar="DIR",
                      help="write the unit files into DIR (e.g. /etc/systemd/system) instead of printing them")


def _split_bot_command(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``exec LABEL -- COMMAND...``: everything after the first ``--`` is the bot's, unparsed."""
    if "--" in argv:
        cut = argv.index("--")
        if any(token in HANDOFF_COMMANDS for token in argv[:cut]):
            return argv[:cut], argv[cut + 1:]
    return argv, None


EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM, as a shell reports it


class Terminated(Exception):
    """SIGTERM arrived while a command ran; what it was doing has been rolled back."""


def _wizard_run(argv: list[str]) -> argparse.Namespace | None:
    """The options of a plain wizard run (``--demo``, ``--env testnet``...), parsed without
    building every subcommand's parser: ~5 ms the first frame would otherwise wait for.

    None when ``argv`` names a subcommand, asks for help, or holds anything this short
    parser doesn't accept: the full parser then decides, and words any error.
    """
    if any(arg in ("-h", "--help", "--version", "--") for arg in argv):
        return None
    try:
        args, rest = _wizard_parser(_Undecided, exit_on_error=False, add_help=False).parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.command = None  # as the full parser leaves it when no subcommand is named
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``binance-key-wizard`` console script.

    Ctrl+C is exit 130 with one line; anything no command turned into a verdict
    is exit 70 (EX_SOFTWARE) with one line and a secret-free report, never a
    traceback and never one of the verdict codes 0-5.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    head, bot_command = _split_bot_command(argv)
    args = _wizard_run(argv) or build_parser().parse_args(head if bot_command is not None else argv)
    if args.command in HANDOFF_COMMANDS:
        args.bot_command = bot_command
    elif bot_command is not None:  # a "--" of another subcommand (e.g. a label that looks like an option)
        args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        print("\nbinance-key-wizard: interrupted. `binance-key-wizard check` reports anything left "
              "unfinished.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("binance-key-wizard: terminated (SIGTERM). `binance-key-wizard check` reports anything left "
              "unfinished.", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as exc:  # noqa: BLE001 - the last line of defence: exit 70, not a traceback
        from wizard.crash import report_unexpected

        return report_unexpected(exc, debug=bool(getattr(args, "debug", False)))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "forget":
        from wizard.forget import forget

        return forget(args)
    if args.command == "exec":
        from wizard.exec_command import run_exec

        return run_exec(args)
    if args.command == "systemd-unit":
        from wizard.systemd_unit import run_systemd_unit

        return run_systemd_unit(args)
    if args.command == "sim":
        from wizard.sim.cli import run as run_sim

        return run_sim(args)
    if args.command in ("add", "check", "review", "rotate"):
        from wizard import commands

        return getattr(commands, args.command)(args)
    from wizard.gc_pause import end_startup_hold, hold_for_startup

    hold_for_startup()  # until the first frame (WizardApp.on_ready): see wizard/gc_pause.py
    try:
        from wizard.launch import run_wizard

        return run_wizard(args)
    finally:
        end_startup_hold()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
