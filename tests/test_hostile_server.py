"""A server that is not Binance: redirects, endless bodies, escape sequences in its text.

Real aiohttp servers on 127.0.0.1 (tests/hostile_servers.py) reached through the
wizard's gateway and real python-binance, and through the CLI in-process. The
redirect tests point the first server at a second one (or at the simulator)
and check that the second never sees the API key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import pytest

from tests.cli_helpers import LABEL, cli, registry_labels, store, use_keyring  # noqa: F401
from tests.gateway_helpers import material, problem_of
from tests.hostile_servers import RawServer, ThreadedServer, binance_time, endless_body, json_with, redirect_to
from wizard.exchange.gateway import Gateway
from wizard.exchange.hostile import MAX_BODY_BYTES
from wizard.exchange.model import Environment
from wizard.text import is_printable_char

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_is_never_followed_with_the_key(sim, status):
    with ThreadedServer(binance_time()) as elsewhere, \
            ThreadedServer(redirect_to(elsewhere.base_url, status)) as front:
        env = Environment.custom(front.base_url)
        async with Gateway(env, material(sim.keys["read_only"]), timeout=5.0) as gw:
            problem = await problem_of(gw.read_permissions())
    assert elsewhere.seen == []  # not a single request, keyed or not
    assert front.seen, "the first server was asked"
    assert problem.exit_code == 5 and problem.status == status
    assert f"redirect (HTTP {status}) to {elsewhere.base_url}/api/v3/time" in problem.message


def test_add_against_a_redirecting_url_exits_5_and_stores_nothing(cli, sim):  # noqa: F811
    key = sim.keys["read_only"]
    with ThreadedServer(redirect_to(sim.base_url)) as front:
        result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", front.base_url, "--json",
                     stdin=key.secret + "\n")
    assert result.code == 5, result.out + result.err
    assert sim.request_log == []  # the simulator (the redirect's target) never heard of the key
    assert registry_labels() == []
    assert "never follows a redirect" in result.out
    assert sim.base_url in result.out


def test_the_location_header_is_shown_sanitised(cli, sim):  # noqa: F811
    answer = (b"HTTP/1.1 302 Found\r\nLocation: http://x.example/\x1b]0;pwned\x07\x1b[2Jok\r\n"
              b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    key = sim.keys["read_only"]
    with RawServer(answer) as front:
        result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", front.base_url,
                     stdin=key.secret + "\n")
    assert result.code == 5
    text = result.out + result.err
    assert "\x1b" not in text and "\x07" not in text
    assert "http://x.example/ok" in text


# An endless body: the gateway stops at the cap. Run in a child process so its
# peak RSS is its own, with an address-space limit so the old (uncapped) code
# fails with MemoryError instead of eating the machine.
CHILD = textwrap.dedent("""
    import asyncio, json, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (1536 << 20, 1536 << 20))
    from wizard.exchange.gateway import Gateway
    from wizard.exchange.model import Environment, ExchangeError

    async def main():
        gw = Gateway(Environment.custom(sys.argv[1]), None, timeout=20.0, retries=0)
        started = time.monotonic()
        try:
            await gw.sync_time()
            outcome = {"ok": True}
        except ExchangeError as err:
            outcome = {"exit": err.problem.exit_code, "message": err.problem.message}
        except MemoryError:
            outcome = {"memory_error": True}
        finally:
            await gw.close()
        outcome["seconds"] = time.monotonic() - started
        outcome["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(outcome))

    asyncio.run(main())
""")


def test_an_endless_body_fails_fast_with_bounded_memory():
    with ThreadedServer(endless_body()) as server:
        done = subprocess.run([sys.executable, "-c", CHILD, server.base_url], capture_output=True,
                              text=True, timeout=50)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome.get("exit") == 5, outcome
    assert f"larger than {MAX_BODY_BYTES // (1 << 20)} MiB" in outcome["message"]
    assert outcome["seconds"] < 10
    # python-binance + aiohttp alone are ~90 MiB. Peaks seen: 56 MiB on a quiet machine, 337 MiB in
    # one fresh-clone CI run (the socket buffers fill faster than the cap check runs); the code
    # before the cap grew without bound (3.7 GiB for a 10 GB body). Why the peak varies is open.
    assert outcome["max_rss_mib"] < 512


async def test_a_declared_huge_content_length_is_refused_before_reading(sim):
    async def huge(request):
        from aiohttp import web

        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.content_length = 10 * 1024 ** 3
        await response.prepare(request)
        await response.write(b"{")
        return response

    with ThreadedServer(huge) as server:
        started = time.monotonic()
        async with Gateway(Environment.custom(server.base_url), None, timeout=5.0, retries=0) as gw:
            problem = await problem_of(gw.sync_time())
    assert problem.exit_code == 5 and "larger than" in problem.message
    assert time.monotonic() - started < 4


HOSTILE_MSG = "\x1b[2J\x1b]0;owned\x07\r\n✓ Stored \u202eevil\u202c\x9b31m\x00 done"


@pytest.mark.parametrize("code", [-2015, -9999, -1013, -2010])
def test_a_server_msg_never_reaches_the_terminal_raw(cli, sim, code):  # noqa: F811
    key = sim.keys["read_only"]
    with ThreadedServer(json_with({"code": code, "msg": HOSTILE_MSG}, status=400)) as server:
        for extra in ((), ("--json",)):
            result = cli("add", LABEL, "--api-key", key.api_key, "--base-url", server.base_url, *extra,
                         stdin=key.secret + "\n")
            assert result.code in (4, 5)
            for stream in (result.out, result.err):
                bad = [ch for ch in stream if ch not in "\n" and not is_printable_char(ch)]
                assert bad == [], (extra, stream)
                assert "\n✓ Stored" not in stream and "\r" not in stream


async def test_a_server_msg_is_shown_on_screen_without_control_characters(sim, memory_keyring, tmp_path):
    from textual.widgets import Static

    from tests.test_app_harness import SIZE, make_services, settle, to_permissions
    from wizard.app import create_app

    key = sim.keys["read_only"]
    with ThreadedServer(json_with({"code": -9999, "msg": HOSTILE_MSG}, status=400)) as server:
        app = create_app(make_services(sim, memory_keyring, tmp_path), env=Environment.custom(server.base_url))
        async with app.run_test(size=SIZE) as pilot:
            await to_permissions(pilot, key.api_key, key.secret)
            await settle(pilot)
            shown = "\n".join(str(w.render()) for w in app.screen.query(Static))
    assert "Binance refused the request: ✓ Stored evil done" in shown  # the message was shown, on one line...
    bad = [ch for ch in shown if ch != "\n" and not is_printable_char(ch)]
    assert bad == []  # ...as plain text


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_bots_client_does_not_follow_a_redirect_with_the_key(memory_keyring, kind):
    from binance.exceptions import BinanceAPIException

    from wizard import load_credentials
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.vault import Vault

    with ThreadedServer(binance_time()) as elsewhere, ThreadedServer(redirect_to(elsewhere.base_url)) as front:
        Vault(memory_keyring).store("bot", StoredKey("k" * 64, "hmac", Secret("s" * 64), "custom", front.base_url))
        creds = load_credentials("bot", backend=memory_keyring)
        if kind == "sync":
            import asyncio

            client = creds.client()
            with pytest.raises(BinanceAPIException) as info:
                await asyncio.to_thread(client.get_account)
        else:
            client = creds.async_client()
            try:
                with pytest.raises(BinanceAPIException) as info:
                    await client.get_account()
            finally:
                await client.close_connection()
    assert info.value.status_code == 302
    assert elsewhere.keyed_requests() == [] and elsewhere.seen == []


def test_the_location_shown_never_carries_the_signed_query():
    from wizard.exchange.hostile import redirected

    signature = "ab12" * 16
    problem = redirected(307, f"http://user:pw@evil.example:8443/sapi/v1/account/apiRestrictions?"
                              f"timestamp=1&recvWindow=10000&signature={signature}#x")
    assert "http://evil.example:8443/sapi/v1/account/apiRestrictions" in problem.message
    assert signature not in problem.message and "timestamp" not in problem.message
    assert "pw" not in problem.message.replace("API", "")


async def test_a_compressed_bomb_is_capped_after_decompression(sim):
    import gzip

    from aiohttp import web

    bomb = gzip.compress(b'{"serverTime": "' + b"0" * (8 << 20) + b'"}', compresslevel=9)  # ~8 KB on the wire

    async def handle(request):
        return web.Response(body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"})

    with ThreadedServer(handle) as server:
        async with Gateway(Environment.custom(server.base_url), None, timeout=10.0, retries=0) as gw:
            problem = await problem_of(gw.sync_time())
    assert len(bomb) < MAX_BODY_BYTES and problem.exit_code == 5 and "larger than" in problem.message


@pytest.mark.parametrize("status", [302, 307, 308])
def test_the_openbao_store_never_follows_a_redirect_with_its_token_or_the_key(status):
    """hvac (requests) follows redirects by default, re-sending X-Vault-Token, and on 307/308 the body."""
    pytest.importorskip("hvac")
    from tests.conftest import SENTINEL_SECRET
    from tests.leaks import assert_no_leak
    from wizard.secret import Secret
    from wizard.stored_key import StoredKey
    from wizard.stores import StoreError, parse_store_uri
    from wizard.stores.openbao import OpenBaoStore

    token = "s." + SENTINEL_SECRET[::-1][:40]
    with ThreadedServer(json_with({"data": {}})) as elsewhere, \
            ThreadedServer(redirect_to(elsewhere.base_url, status)) as front:
        store = OpenBaoStore(parse_store_uri(f"vault+http://127.0.0.1:{front.port}/secret/bots"),
                             environ={"VAULT_TOKEN": token})
        key = StoredKey("k" * 64, "hmac", Secret(SENTINEL_SECRET), "live", None)
        for attempt in (lambda: store.load("tracker"), lambda: store.store("tracker", key)):
            with pytest.raises(StoreError) as info:
                attempt()
            assert "redirect" in info.value.problem.message
            assert_no_leak(info.value.problem.message + info.value.problem.fix)
    assert elsewhere.seen == []  # neither the token nor the key went anywhere else
    assert front.seen and all(s.headers.get("X-Vault-Token") == token for s in front.seen)
