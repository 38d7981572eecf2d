"""The key document a :class:`~wizard.vault.Vault` keeps in the OS keyring.

One JSON document per label: the API key, its type, the secret (HMAC secret or
Ed25519 PEM) and the environment it works in. Split from :mod:`wizard.vault` so
the format (and its validation) can be read on its own; the keyring access,
verified writes and safe replacement stay there. The document only ever
exists wrapped in a :class:`~wizard.secret.Secret`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from wizard.exchange.model import Environment, KeyMaterial, KeyType
from wizard.secret import Secret
from wizard.text import printable

DOCUMENT_VERSION = 1


def environment_for(env: str, base_url: str | None) -> Environment:
    """The :class:`Environment` a stored ``env``/``base_url`` pair names.

    A stored ``base_url`` obeys the same rule as a typed ``--base-url``
    (:func:`wizard.urls.parse_base_url`): an edited registry or keyring entry
    can't point a key at plain http elsewhere. ValueError when it breaks it.
    """
    from wizard.urls import parse_base_url

    if env in ("sim", "custom") and base_url is not None:
        url = parse_base_url(base_url, what="the stored base_url")
        return Environment.custom(url, simulated=env == "sim")
    if env in ("live", "testnet", "demo"):
        return Environment.from_name(env)
    raise ValueError(f"unknown environment {printable(env, limit=40)!r} (custom and sim need a base URL)")


@dataclass(frozen=True, repr=False)
class StoredKey:
    """One key as the keyring holds it. ``secret`` is the HMAC secret or the Ed25519 PEM."""

    api_key: str
    key_type: KeyType
    secret: Secret
    env: str = "live"
    base_url: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.secret, Secret):
            raise TypeError("StoredKey.secret must be a Secret")
        if self.key_type not in ("hmac", "ed25519"):
            raise ValueError(f"unsupported key type {self.key_type!r}: use hmac or ed25519")
        if not isinstance(self.api_key, str) or not self.api_key.strip():
            raise ValueError("the API key is empty")
        if not isinstance(self.env, str) or not (self.base_url is None or isinstance(self.base_url, str)):
            raise ValueError("env and base_url must be text")
        environment_for(self.env, self.base_url)  # validates env/base_url together

    @classmethod
    def from_material(cls, key: KeyMaterial, env: Environment) -> StoredKey:
        """Build from what the wizard verified: the key and where it works."""
        return cls(key.api_key, key.key_type, key.secret, env.name, env.base_url)

    def key_material(self) -> KeyMaterial:
        """The key as the exchange gateway takes it."""
        return KeyMaterial(self.api_key, self.key_type, self.secret)

    def environment(self) -> Environment:
        """Where this key works."""
        return environment_for(self.env, self.base_url)

    def __repr__(self) -> str:
        from wizard.registry import fingerprint

        return (
            f"StoredKey(api_key={fingerprint(self.api_key)!r}, key_type={self.key_type!r}, "
            f"env={self.env!r}, base_url={self.base_url!r}, secret=<redacted>)"
        )

    __str__ = __repr__

    def to_json(self) -> Secret:
        """The keyring password: a JSON document, wrapped so it cannot leak."""
        field = "secret" if self.key_type == "hmac" else "private_key_pem"
        doc = {
            "version": DOCUMENT_VERSION,
            "api_key": self.api_key,
            "key_type": self.key_type,
            field: self.secret.reveal(),
            "env": self.env,
            "base_url": self.base_url,
        }
        return Secret(json.dumps(doc, separators=(",", ":"), sort_keys=True))

    @classmethod
    def from_json(cls, document: Secret) -> StoredKey:
        """Parse a keyring password; ValueError (never quoting it) if it is not ours."""
        try:
            data = json.loads(document.reveal())
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            data = None  # raise outside: JSONDecodeError.doc holds the whole document
        if not isinstance(data, dict) or "api_key" not in data:
            raise ValueError("the keyring entry is not a binance-key-wizard key document")
        version = data.get("version", 1)
        if not isinstance(version, int) or version > DOCUMENT_VERSION:
            raise ValueError("the keyring entry was written by a newer binance-key-wizard: upgrade it")
        key_type = data.get("key_type", "hmac")
        value = data.get("secret" if key_type == "hmac" else "private_key_pem")
        if not isinstance(value, str) or not value:
            raise ValueError(f"the keyring entry has no {'secret' if key_type == 'hmac' else 'private key'}")
        try:
            return cls(data["api_key"], key_type, Secret(value), data.get("env", "live"), data.get("base_url"))
        except (TypeError, ValueError, AttributeError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "a field has the wrong type"
        # Outside the except: a chained exception could quote the document.
        raise ValueError(f"the keyring entry is damaged: {reason}")

