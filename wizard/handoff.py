"""Hand-off presets: which environment variables each kind of bot reads its key from.

Presets are data, not code: adding a bot is one row in :data:`PRESETS`. A row
maps a variable name to a field of the stored key:

- ``api_key``: the 64-character API key;
- ``secret``: the HMAC secret, or the Ed25519 private key as PKCS#8 PEM
  (normalised to ``\\n`` line ends: ccxt and python-binance both tell Ed25519
  from RSA by the PEM's length, and CRLF padding makes an Ed25519 PEM look RSA);
- ``key_type``: ``hmac`` or ``ed25519``.

:func:`bot_environment` builds the child's environment from them. Nothing here
prints, logs or keeps the secret; the returned dict is the one place it lives
until it is handed to ``os.execvpe``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wizard.stored_key import StoredKey

# preset -> {environment variable: stored-key field}
PRESETS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    # nautilus_trader (live), ccxt scripts, python-binance scripts, most home-made bots.
    "generic": MappingProxyType({
        "BINANCE_API_KEY": "api_key",
        "BINANCE_API_SECRET": "secret",
        "BINANCE_KEY_TYPE": "key_type",
    }),
    # freqtrade maps FREQTRADE__SECTION__KEY onto its config (exchange.key / exchange.secret).
    "freqtrade": MappingProxyType({
        "FREQTRADE__EXCHANGE__KEY": "api_key",
        "FREQTRADE__EXCHANGE__SECRET": "secret",
    }),
})
DEFAULT_PRESET = "generic"


def preset_names() -> tuple[str, ...]:
    """The names ``exec --as`` accepts, default first."""
    return (DEFAULT_PRESET, *sorted(name for name in PRESETS if name != DEFAULT_PRESET))


def presets_help() -> str:
    """The ``exec --help`` lines listing each preset's variables, from the table itself."""
    lines = ["", "presets (--as): the variables the bot gets"]
    for name in preset_names():
        lines.append(f"  {name:<10} {', '.join(PRESETS[name])}")
    lines.append("  (the secret is the HMAC secret, or the Ed25519 private key as PKCS#8 PEM)")
    return "\n".join(lines) + "\n"


def _field(stored: StoredKey, field: str) -> str:
    if field == "api_key":
        return stored.api_key
    if field == "key_type":
        return stored.key_type
    if field == "secret":
        value = stored.secret.reveal()
        if stored.key_type == "ed25519":
            return value.replace("\r\n", "\n").replace("\r", "\n").strip() + "\n"
        return value
    raise KeyError(f"unknown stored-key field {field!r}")


def bot_environment(preset: str, stored: StoredKey, base: Mapping[str, str]) -> dict[str, str]:
    """``base`` (the wizard's own environment) plus ``preset``'s variables for ``stored``.

    Every variable of every preset is removed from ``base`` first, so a stale
    key exported in the shell can never reach the bot next to the verified one.
    """
    if preset not in PRESETS:
        raise KeyError(f"unknown hand-off preset {preset!r}: use one of {', '.join(preset_names())}")
    every_name = {var for table in PRESETS.values() for var in table}
    env = {name: value for name, value in base.items() if name not in every_name}
    for var, field in PRESETS[preset].items():
        env[var] = _field(stored, field)
    return env
