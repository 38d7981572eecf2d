"""Command line: parse arguments, then hand off to the module that does the work.

Only ``argparse`` is imported here so ``--help`` and ``--version`` are instant;
each subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wizard import __version__

EXIT_CODES = """\
exit codes (add, check):
  0  ok (warnings allowed)
  1  policy violation: a dangerous or unneeded permission, or a required IP
     restriction missing
  2  usage error or malformed input
  3  no stored credentials for the label, or the keyring is unusable
  4  key rejected by the exchange: unknown or deleted key, bad signature,
     IP not allowed, permission missing
  5  exchange unreachable or unusable after safe retries: network, timeout,
     5xx, rate limit or ban, region block
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


def build_parser() -> argparse.ArgumentParser:
    """The full parser; exposed so tests and --help agree."""
    parser = argparse.ArgumentParser(
        prog="binance-key-wizard",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="rehearse on the built-in simulated exchange (no Binance account needed)",
    )
    parser.add_argument("--purpose", choices=("read", "spot"), help="pre-select the key's purpose")
    _add_exchange_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sim = sub.add_parser("sim", help="run the simulated Binance exchange in the foreground")
    sim.add_argument("--port", type=port_number, default=0, help="port on 127.0.0.1 (default: any free)")
    sim.add_argument("--json", action="store_true", help="print one JSON line: base_url and keys")

    add = sub.add_parser(
        "add",
        help="validate and store a key without the TUI (secret read from stdin)",
        description="Validate a key exactly as the wizard does (permissions, IP restriction, a "
        "signed call) and store it in the OS keyring only if it passes. The secret key is read "
        "from standard input (a hidden prompt on a terminal), never from the command line.",
        epilog=EXIT_CODES,
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
    _add_exchange_options(add, subcommand=True)

    check = sub.add_parser(
        "check",
        help="re-validate stored keys against the exchange",
        description="Re-validate stored keys against the live exchange with the purpose and "
        "policy recorded at setup (2 requests per healthy key). Exits with the worst result.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check.add_argument("labels", nargs="*", metavar="LABEL", help="default: every managed key")
    check.add_argument("--json", action="store_true", help="machine-readable result")
    _add_exchange_options(check, subcommand=True)

    review = sub.add_parser(
        "review",
        help="list every managed key and what is due",
        description="Every managed key: purpose, key fingerprint, age, last verified, "
        "permissions, IP restriction, trading expiry and rotation due date. No network calls.",
    )
    review.add_argument("--json", action="store_true", help="machine-readable result")

    rotate = sub.add_parser(
        "rotate",
        help="replace a key through the wizard, then prove the old one is dead",
        description="Walk through the wizard for a new key pre-filled from LABEL's settings. The "
        "old key stays stored until the new one is verified; the rotation is done only when "
        "the exchange rejects the old key. Needs a terminal.",
    )
    rotate.add_argument("label")
    _add_exchange_options(rotate, subcommand=True)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``binance-key-wizard`` console script."""
    args = build_parser().parse_args(argv)
    if args.command == "sim":
        from wizard.sim.cli import run as run_sim

        return run_sim(args)
    if args.command in ("add", "check", "review", "rotate"):
        from wizard import commands

        return getattr(commands, args.command)(args)
    from wizard.launch import run_wizard

    return run_wizard(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
