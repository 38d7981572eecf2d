"""A plain ccxt script, as a user would write it: key from the environment, one signed call.

    binance-key-wizard exec LABEL -- python tests/bots/ccxt_balance.py BASE_URL

``BASE_URL`` is the simulator's root (live Binance is unreachable in tests);
every REST entry of ccxt's ``urls['api']`` that a spot call can use is pointed
at it. Prints one JSON line: the key type it was given and the spot balances.
"""

from __future__ import annotations

import json
import os
import sys

import ccxt

# ccxt's binance URL keys (ccxt/binance.py, urls.api) -> the simulator's paths.
SIM_PATHS = {
    "public": "/api/v3", "private": "/api/v3", "v1": "/api/v1",
    "sapi": "/sapi/v1", "sapiV2": "/sapi/v2", "sapiV3": "/sapi/v3", "sapiV4": "/sapi/v4",
}


def main(base_url: str) -> int:
    exchange = ccxt.binance({
        "apiKey": os.environ["BINANCE_API_KEY"],
        "secret": os.environ["BINANCE_API_SECRET"],  # HMAC secret, or the Ed25519 PEM
        "enableRateLimit": False,
        # Spot only: no futures exchangeInfo, no signed /sapi currency or margin lists.
        "options": {"fetchMarkets": {"types": ["spot"]}, "fetchCurrencies": False, "fetchMargins": False},
    })
    for name, path in SIM_PATHS.items():
        exchange.urls["api"][name] = base_url.rstrip("/") + path
    balance = exchange.fetch_balance()  # GET /api/v3/account, signed
    free = {asset: amount for asset, amount in balance["free"].items() if amount}
    print(json.dumps({"key_type": os.environ.get("BINANCE_KEY_TYPE"), "free": free}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
