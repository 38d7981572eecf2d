"""Where the wizard talks to Binance: live, Spot Testnet, demo trading or a given URL.

Its own module so the first frame needs only this, not the whole exchange
model (every dataclass costs import time; see issue 7's first-frame target).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Environment:
    """Where the wizard talks to Binance.

    ``api_url`` and ``sapi_url`` are roots in python-binance's sense
    (``.../api`` and ``.../sapi``). ``sapi_url`` is ``None`` where Binance has
    no ``/sapi`` (Spot Testnet, demo trading): there a key's permissions can
    only be probed, never confirmed.
    """

    name: Literal["live", "testnet", "demo", "custom", "sim"]
    api_url: str
    sapi_url: str | None
    management_url: str
    title: str

    @property
    def has_sapi(self) -> bool:
        """True when ``/sapi/v1/account/apiRestrictions`` exists here."""
        return self.sapi_url is not None

    @property
    def base_url(self) -> str | None:
        """The ``--base-url`` this environment was made from, if any."""
        if self.name in ("custom", "sim"):
            return self.api_url.removesuffix("/api")
        return None

    @classmethod
    def live(cls) -> Environment:
        """Binance.com production."""
        return cls(
            "live",
            "https://api.binance.com/api",
            "https://api.binance.com/sapi",
            "https://www.binance.com/en/my/settings/api-management",
            "Binance (live)",
        )

    @classmethod
    def testnet(cls) -> Environment:
        """Spot Testnet: no /sapi, keys from testnet.binance.vision."""
        return cls(
            "testnet",
            "https://testnet.binance.vision/api",
            None,
            "https://testnet.binance.vision/key/generate",
            "Spot Testnet",
        )

    @classmethod
    def demo(cls) -> Environment:
        """Binance demo trading: no documented /sapi."""
        return cls(
            "demo",
            "https://demo-api.binance.com/api",
            None,
            "https://demo.binance.com/en/my/settings/api-management",
            "Binance demo trading",
        )

    @classmethod
    def custom(cls, base_url: str, *, simulated: bool = False) -> Environment:
        """Any Binance-compatible root serving both /api and /sapi."""
        root = base_url.rstrip("/")
        return cls(
            "sim" if simulated else "custom",
            f"{root}/api",
            f"{root}/sapi",
            f"{root}/api-management" if simulated else root,
            "Simulated exchange (demo)" if simulated else f"Custom endpoint {root}",
        )

    @classmethod
    def from_name(cls, name: str, base_url: str | None = None) -> Environment:
        """Build from the CLI's ``--env`` / ``--base-url`` (base URL wins).

        ``base_url`` must pass :func:`wizard.urls.parse_base_url` (UrlError, a
        ValueError, if not); an empty one is an error, never "live".
        """
        if base_url is not None:
            from wizard.urls import parse_base_url

            return cls.custom(parse_base_url(base_url))
        try:
            return {"live": cls.live, "testnet": cls.testnet, "demo": cls.demo}[name]()
        except KeyError:
            raise ValueError(f"unknown environment {name!r}: use live, testnet or demo") from None
