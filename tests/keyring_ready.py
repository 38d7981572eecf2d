"""Exit 0 when the Secret Service of this D-Bus session is reachable and unlocked.

tests/run.sh runs it right after starting gnome-keyring-daemon: the daemon can
exit 0 and still leave no service, or a locked default collection (a wrong
password, a stale keyring directory). On failure it says which, on stderr.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Check that the default collection exists, is unlocked and takes a write."""
    try:
        import secretstorage

        connection = secretstorage.dbus_init()
        collection = secretstorage.get_default_collection(connection)
        if collection.is_locked():
            print("tests/run.sh: the test keyring is still LOCKED after gnome-keyring-daemon --unlock",
                  file=sys.stderr)
            return 1
        item = collection.create_item("binance-key-wizard run.sh probe", {"probe": "run.sh"}, b"ok", replace=True)
        ok = item.get_secret() == b"ok"
        item.delete()
    except Exception as exc:  # noqa: BLE001 - any failure means the tier can't run
        print(f"tests/run.sh: no usable Secret Service in the test session ({type(exc).__name__}: {exc})",
              file=sys.stderr)
        return 1
    if not ok:
        print("tests/run.sh: the test keyring did not return what was written to it", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
