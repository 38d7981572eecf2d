"""binance-key-wizard: set up a least-privilege Binance API key and prove it works.

For bots, the hand-off is::

    from wizard import load_credentials
    creds = load_credentials("my-bot-label")
    client = creds.client()          # a configured python-binance Client

Heavy modules (python-binance, keyring) load only when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Credentials", "CredentialsError", "load_credentials", "__version__"]

if TYPE_CHECKING:
    from wizard.credentials import Credentials, CredentialsError, load_credentials


def __getattr__(name: str) -> Any:
    # Lazy so `import wizard` (and the wizard's first frame) stays cheap.
    if name in ("Credentials", "CredentialsError", "load_credentials"):
        from wizard import credentials

        return getattr(credentials, name)
    raise AttributeError(f"module 'wizard' has no attribute {name!r}")
