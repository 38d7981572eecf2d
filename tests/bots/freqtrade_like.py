"""What freqtrade does with ``--as freqtrade``, without installing freqtrade (it needs TA-Lib).

freqtrade's documented rule: a variable ``FREQTRADE__SECTION__KEY`` overrides
``config["section"]["key"]`` (names lower-cased, ``__`` nesting). Its exchange
layer then builds the ccxt client with ``apiKey=config["exchange"]["key"]`` and
``secret=config["exchange"]["secret"]``. This script does the same, with a
config whose key and secret are empty as the README says, and makes one signed
call to the simulator at ``BASE_URL``.

    binance-key-wizard exec LABEL --as freqtrade -- python tests/bots/freqtrade_like.py BASE_URL
"""

from __future__ import annotations

import json
import os
import sys

from tests.bots.ccxt_balance import SIM_PATHS

PREFIX = "FREQTRADE__"


def config_from_environment(config: dict, environ: dict[str, str]) -> dict:
    """``config`` with every ``FREQTRADE__A__B`` variable written to ``config["a"]["b"]``."""
    for name, value in environ.items():
        if not name.startswith(PREFIX):
            continue
        *sections, key = name[len(PREFIX):].lower().split("__")
        node = config
        for section in sections:
            node = node.setdefault(section, {})
        node[key] = value
    return config


def main(base_url: str) -> int:
    import ccxt

    config = config_from_environment({"exchange": {"name": "binance", "key": "", "secret": ""}}, dict(os.environ))
    exchange = ccxt.binance({
        "apiKey": config["exchange"]["key"], "secret": config["exchange"]["secret"], "enableRateLimit": False,
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
    })
    for name, path in SIM_PATHS.items():
        exchange.urls["api"][name] = base_url.rstrip("/") + path
    free = {asset: amount for asset, amount in exchange.fetch_balance()["free"].items() if amount}
    print(json.dumps({"free": free}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
