"""After a demo run: show what the keyring now holds (``python -m wizard.demo_report``).

``wizard/demo.sh`` runs this inside the demo's D-Bus session, where the private
GNOME Keyring is reachable, so a new user sees their credentials really are in
a keyring. It prints labels, fingerprints and the backend — never a secret.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main() -> int:
    """Print one line per demo key found in both the registry and the keyring."""
    from platformdirs import user_config_dir

    from wizard.app import DEMO_SERVICE
    from wizard.registry import Registry, RegistryError, fingerprint
    from wizard.vault import Vault, VaultError

    try:
        records = Registry(Path(user_config_dir("binance-key-wizard")) / "demo-keys.json").all()
    except RegistryError as err:
        print(f"demo registry unreadable: {err}", file=sys.stderr)
        return 1
    if not records:
        print("No demo key was stored this time.")
        return 0
    vault = Vault(service=DEMO_SERVICE)
    print(f"Demo keys in the keyring (service {DEMO_SERVICE!r}, backend {vault.backend_name}):")
    for record in records:
        try:
            stored = vault.load(record.label)
        except VaultError as err:
            print(f"  {record.label}: not in the keyring ({err.problem.message})")
            continue
        print(f"  {record.label}: {stored.key_type} key {fingerprint(stored.api_key)}, purpose {record.purpose}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
