"""Run ``binance-key-wizard ARGS...`` as a real process on an in-memory keyring.

The fast tier has no desktop keyring to share between processes, so the test
pipes the keyring's entries into this launcher on stdin (JSON list of
``[service, username, password]``); it installs them in a
:class:`tests.keyrings.MemoryKeyring` and runs the CLI, which for ``exec`` then
replaces this process with the bot. The secret travels over a pipe: never argv,
the environment, or a file.
"""

from __future__ import annotations

import json
import sys

import keyring

from tests.keyrings import MemoryKeyring


def main(argv: list[str]) -> int:
    backend = MemoryKeyring()
    for service, username, password in json.loads(sys.stdin.read() or "[]"):
        backend.set_password(service, username, password)
    keyring.set_keyring(backend)
    from wizard.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
