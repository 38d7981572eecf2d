"""The bot hand-off: load_credentials -> a python-binance client that signs correctly.

The clients talk to a tiny real HTTP server on 127.0.0.1 that checks the API
key header and verifies each request's HMAC or Ed25519 signature, so these
tests prove the stored secret reaches python-binance intact and nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from keyring.backends import null

from tests.conftest import SENTINEL_SECRET
from tests.leaks import assert_no_leak, assert_none_leak
from wizard.crash import format_exception_without_locals
from wizard.exchange.model import Environment
from wizard.registry import KeyRecord, Registry, fingerprint
from wizard.secret import Secret
from wizard.vault import SERVICE, StoredKey, Vault

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
ROOT = Path(__file__).resolve().parents[1]


class SigningServer:
    """Answers /api and /sapi GETs with {} after verifying key and signature."""

    def __init__(self, secret: str | None = None, public_key=None):
        self.secret, self.public_key = secret, public_key
        self.seen: list[tuple[str, str, bool]] = []  # (path, api key header, signature valid)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                path, _, query = self.path.partition("?")
                payload, _, signature = query.partition("&signature=")
                server.seen.append((path, self.headers.get("X-MBX-APIKEY", ""), server.verify(payload, signature)))
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def verify(self, payload: str, signature: str) -> bool:
        from urllib.parse import unquote

        if self.secret is not None:
            expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
            return hmac.compare_digest(expected, signature)
        try:
            self.public_key.verify(base64.b64decode(unquote(signature)), payload.encode())
        except Exception:  # noqa: BLE001 - any failure is an invalid signature
            return False
        return True

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hmac_server():
    server = SigningServer(secret=SENTINEL_SECRET)
    yield server
    server.close()


@pytest.fixture
def ed25519_pair():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return pem, private.public_key()


def store(backend, label="tracker", **kw) -> None:
    fields = dict(api_key=API_KEY, key_type="hmac", secret=Secret(SENTINEL_SECRET))
    fields.update(kw)
    Vault(backend).store(label, StoredKey(**fields))


def test_the_package_hands_off_lazily():
    code = (
        "import sys, wizard, wizard.vault, wizard.registry, wizard.credentials, wizard.crash\n"
        "from wizard import load_credentials, Credentials, CredentialsError\n"
        "print(sorted(m for m in ('keyring', 'binance', 'textual', 'rich', 'aiohttp', 'requests')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_credentials_never_show_the_secret(memory_keyring):
    from wizard import load_credentials

    store(memory_keyring)
    creds = load_credentials("tracker", backend=memory_keyring)
    assert creds.secret == Secret(SENTINEL_SECRET) and creds.api_key == API_KEY
    assert creds.env == Environment.live()
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}", f"{creds:>200}", "%s" % (creds,),
                 repr([creds]), repr(creds.key_material())):
        assert API_KEY not in text
        assert_no_leak(text)
    assert fingerprint(API_KEY) in repr(creds)


def test_unknown_label_names_the_label_and_what_to_run(memory_keyring):
    from wizard import CredentialsError, load_credentials

    with pytest.raises(CredentialsError) as info:
        load_credentials("my-bot", backend=memory_keyring)
    err = info.value
    assert err.kind == "unknown_label" and err.exit_code == 3
    assert "'my-bot'" in str(err) and "binance-key-wizard" in str(err)


@pytest.mark.parametrize("backend", [null.Keyring(), None], ids=["null", "locked"])
def test_unusable_keyring_is_its_own_error(backend, memory_keyring):
    from tests.vault_helpers import LockedKeyring
    from wizard import CredentialsError, load_credentials

    with pytest.raises(CredentialsError) as info:
        load_credentials("my-bot", backend=backend or LockedKeyring())
    err = info.value
    assert err.kind == "keyring_unusable" and "'my-bot'" in str(err)
    assert err.problem is not None and err.problem.fix in str(err)


def test_the_service_name_is_honoured(memory_keyring):
    from wizard import load_credentials

    Vault(memory_keyring, service="binance-key-wizard-demo").store(
        "demo", StoredKey(API_KEY, "hmac", Secret(SENTINEL_SECRET)))
    assert load_credentials("demo", "binance-key-wizard-demo", backend=memory_keyring).api_key == API_KEY


@pytest.mark.parametrize(
    ("env", "api_url", "sapi_url"),
    [
        ("live", "https://api.binance.com/api", "https://api.binance.com/sapi"),
        ("testnet", "https://testnet.binance.vision/api", "https://testnet.binance.vision/sapi"),
        ("demo", "https://demo-api.binance.com/api", "https://demo-api.binance.com/sapi"),
    ],
)
def test_client_points_every_url_at_the_stored_environment(memory_keyring, env, api_url, sapi_url):
    from wizard import load_credentials

    store(memory_keyring, env=env)
    client = load_credentials("tracker", backend=memory_keyring).client()
    assert (client.API_URL, client.MARGIN_API_URL) == (api_url, sapi_url)  # testnet keys never sign for production
    assert client.API_KEY == API_KEY


def test_client_options_cannot_override_the_key_or_enable_verbose(memory_keyring):
    from wizard import load_credentials

    store(memory_keyring)
    creds = load_credentials("tracker", backend=memory_keyring)
    for option in ("verbose", "testnet", "api_secret"):
        with pytest.raises(TypeError):
            creds.client(**{option: True})


def test_hmac_client_signs_correctly_against_a_real_server(memory_keyring, hmac_server, caplog):
    from wizard import load_credentials

    store(memory_keyring, env="sim", base_url=hmac_server.base_url)
    client = load_credentials("tracker", backend=memory_keyring).client()
    with caplog.at_level(logging.DEBUG):
        client.get_account()
        client.get_account_api_permissions()
    client.close_connection()
    assert hmac_server.seen == [
        ("/api/v3/account", API_KEY, True),
        ("/sapi/v1/account/apiRestrictions", API_KEY, True),
    ]  # ping=False: nothing was sent before the first real call
    assert_no_leak(caplog.text)


async def test_async_client_signs_correctly(memory_keyring, hmac_server):
    from wizard import load_credentials

    store(memory_keyring, env="custom", base_url=hmac_server.base_url)
    client = load_credentials("tracker", backend=memory_keyring).async_client()
    try:
        await client.get_account()
    finally:
        await client.close_connection()
    assert hmac_server.seen == [("/api/v3/account", API_KEY, True)]


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_ed25519_client_signs_with_the_private_key(memory_keyring, ed25519_pair, line_end):
    from wizard import load_credentials

    pem, public = ed25519_pair
    server = SigningServer(public_key=public)
    try:
        store(memory_keyring, key_type="ed25519", secret=Secret(pem.replace("\n", line_end) + "  "),
              env="sim", base_url=server.base_url)
        client = load_credentials("tracker", backend=memory_keyring).client()
        client.get_account()
        client.close_connection()
    finally:
        server.close()
    assert server.seen == [("/api/v3/account", API_KEY, True)]


def test_nothing_written_anywhere_holds_the_secret(isolated_home, memory_keyring, hmac_server):
    """Registry, vault, hand-off, a crash report: afterwards no file under HOME holds the sentinel."""
    from wizard import load_credentials

    registry = Registry()
    store(memory_keyring, env="sim", base_url=hmac_server.base_url)
    registry.put(KeyRecord("tracker", env="sim", base_url=hmac_server.base_url, fingerprint=fingerprint(API_KEY),
                           service=SERVICE))
    creds = load_credentials("tracker", backend=memory_keyring)
    creds.client().get_account()
    registry.record_rotation("tracker", fingerprint(API_KEY), "NEWk…uX9z")
    try:
        secret_value = creds.secret.reveal()  # noqa: F841 - a local a crash dump would print
        raise RuntimeError("boom")
    except RuntimeError as exc:
        report = format_exception_without_locals(exc)
    assert_no_leak(report)
    files = [p for p in Path(isolated_home).rglob("*") if p.is_file()]
    assert registry.path in files
    for path in files:
        data = path.read_bytes()
        assert_no_leak(data, where=str(path))
        assert API_KEY.encode() not in data, path
    assert_none_leak(os.environ.values())
    assert json.loads(registry.path.read_text())["keys"]["tracker"]["fingerprint"] == "NEWk…uX9z"
