"""The Vault/OpenBao store on a real OpenBao: check-and-set, AppRole, and every failure as a sentence."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import threading
import time

import pytest

from tests.conftest import SENTINEL_SECRET
from tests.cli_helpers import free_port
from tests.store_fixtures import OpenBao, _bao_binary, _wait_ready, unavailable
from tests.store_fixtures import bao_env, openbao, unique_prefix  # noqa: F401
from tests.vault_helpers import hmac_key
from wizard.stores import ProblemKind, StoreError, open_store, parse_store_uri
from wizard.stores.openbao import OpenBaoStore

LABEL = "tracker-vps1"


def _policy(prefix: str, *capabilities: str) -> str:
    caps = ", ".join(f'"{c}"' for c in capabilities)
    return (f'path "secret/data/{prefix}/*" {{ capabilities = [{caps}] }}\n'
            f'path "secret/metadata/{prefix}/*" {{ capabilities = [{caps}] }}\n'
            f'path "secret/metadata/{prefix}" {{ capabilities = ["list"] }}\n')


def _store(server, prefix: str, **env: str) -> OpenBaoStore:
    return OpenBaoStore(parse_store_uri(server.uri(prefix)), environ={"VAULT_CACERT": str(server.ca_cert), **env})


def test_two_writers_adding_the_same_label_one_wins_the_other_is_told(bao_env, unique_prefix):
    stores = [open_store(bao_env.uri(unique_prefix)) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    class Racing(OpenBaoStore):
        def _write(self, label, data, *, cas, secrets):
            start.wait(timeout=10)  # both have read "no such label" and now write with cas=0
            return super()._write(label, data, cas=cas, secrets=secrets)

    racers = [Racing(s.location) for s in stores]

    def add(index: int) -> None:
        try:
            racers[index].store(LABEL, hmac_key(secret=f"{index}" * 64))
            outcomes[index] = "stored"
        except StoreError as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=add, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(type(o).__name__ for o in outcomes) == ["StoreError", "str"]
    loser = next(o for o in outcomes if isinstance(o, StoreError))
    assert loser.problem.kind is ProblemKind.CONFLICT and loser.exit_code == 3
    assert "nothing was overwritten" in loser.problem.message
    winner = outcomes.index("stored")
    assert open_store(bao_env.uri(unique_prefix)).load(LABEL).secret.reveal() == f"{winner}" * 64


def test_a_replacement_based_on_a_stale_version_is_refused(bao_env, unique_prefix):
    first, second = (open_store(bao_env.uri(unique_prefix)) for _ in range(2))
    first.store(LABEL, hmac_key(secret="a" * 64))
    stale_version = first._version(LABEL)
    second.replace(LABEL, hmac_key(secret="b" * 64))  # another machine rotated meanwhile
    with pytest.raises(StoreError) as caught:
        first._write(LABEL, {"api_key": "x"}, cas=stale_version, secrets=())
    assert caught.value.problem.kind is ProblemKind.CONFLICT
    assert first.load(LABEL).secret.reveal() == "b" * 64


def test_adding_a_label_another_machine_already_stored_is_a_conflict(bao_env, unique_prefix):
    open_store(bao_env.uri(unique_prefix)).store(LABEL, hmac_key(secret="a" * 64))
    with pytest.raises(StoreError) as caught:
        open_store(bao_env.uri(unique_prefix)).store(LABEL, hmac_key(secret="b" * 64))
    assert caught.value.problem.kind is ProblemKind.CONFLICT and "another machine" in caught.value.problem.message


def test_an_approle_login_works_without_any_token(openbao, unique_prefix):
    openbao.bao("policy", "write", f"p-{unique_prefix}", "-", stdin=_policy(unique_prefix, "create", "read",
                                                                               "update", "delete", "list"))
    role_id, secret_id = openbao.approle(f"r-{unique_prefix}", f"p-{unique_prefix}")
    store = _store(openbao, unique_prefix, VAULT_ROLE_ID=role_id, VAULT_SECRET_ID=secret_id)
    assert store.check_health() is None
    store.store(LABEL, hmac_key())
    assert store.load(LABEL).secret.reveal() == SENTINEL_SECRET
    assert store.labels() == [LABEL]
    wrong = _store(openbao, unique_prefix, VAULT_ROLE_ID=role_id, VAULT_SECRET_ID="0" * 36)
    problem = wrong.check_health()
    assert problem is not None and problem.kind is ProblemKind.UNAUTHENTICATED
    assert "0" * 36 not in problem.message + problem.fix


def test_a_read_only_token_can_load_but_not_store(openbao, unique_prefix):
    open_store_root = _store(openbao, unique_prefix, VAULT_TOKEN=openbao.root_token)
    open_store_root.store(LABEL, hmac_key())
    token = openbao.token_for(f"ro-{unique_prefix}", _policy(unique_prefix, "read", "list"))
    reader = _store(openbao, unique_prefix, BAO_TOKEN=token)
    assert reader.load(LABEL).secret.reveal() == SENTINEL_SECRET  # a bot server needs no more
    assert reader.labels() == [LABEL]
    problem = reader.check_health()
    assert problem is not None and problem.kind is ProblemKind.PERMISSION_DENIED
    assert "create, read, update, delete and list" in problem.fix
    with pytest.raises(StoreError) as caught:
        reader.replace(LABEL, hmac_key(secret="n" * 64))
    assert caught.value.problem.kind is ProblemKind.PERMISSION_DENIED
    assert reader.load(LABEL).secret.reveal() == SENTINEL_SECRET


@pytest.mark.parametrize("env, kind, words", [
    ({}, ProblemKind.UNAUTHENTICATED, "VAULT_TOKEN"),
    ({"VAULT_TOKEN": "s.not-a-real-token"}, ProblemKind.UNAUTHENTICATED, "wrong, expired or revoked"),
])
def test_token_problems_are_sentences_with_a_fix(openbao, unique_prefix, env, kind, words):
    problem = _store(openbao, unique_prefix, **env).check_health()
    assert problem is not None and problem.kind is kind and problem.exit_code == 3
    assert words in problem.message + problem.fix
    assert "not-a-real-token" not in problem.message + problem.fix


def test_an_unreachable_server_and_an_untrusted_certificate_are_told_apart(openbao, unique_prefix):
    closed = OpenBaoStore(parse_store_uri(f"vault+https://127.0.0.1:{free_port()}/secret/x"),
                          environ={"VAULT_TOKEN": "x"}, timeout=5)
    assert closed.check_health().kind is ProblemKind.UNREACHABLE
    untrusted = OpenBaoStore(parse_store_uri(openbao.uri(unique_prefix)), environ={"VAULT_TOKEN": "x"})
    problem = untrusted.check_health()
    assert problem.kind is ProblemKind.UNREACHABLE and "VAULT_CACERT" in problem.fix


def test_a_mount_that_is_not_kv2_says_how_to_enable_one(openbao):
    problem = _store(openbao, "x", VAULT_TOKEN=openbao.root_token)
    problem.location = parse_store_uri(f"vault+{openbao.address}/no-such-mount/x")
    found = problem.check_health()
    assert found.kind is ProblemKind.UNAVAILABLE and "secrets enable -path=no-such-mount kv-v2" in found.fix


def test_a_sealed_server_is_reported_as_sealed(tmp_path_factory):
    """A second, short-lived server: sealing the session's one would break the other tests."""
    binary = _bao_binary()
    if binary is None:
        unavailable("no bao binary")
    home = tmp_path_factory.mktemp("sealed")
    (home / "tls").mkdir()
    address, token = f"127.0.0.1:{free_port()}", secrets.token_hex(8)
    server = OpenBao(f"https://{address}", token, home, home / "tls" / "vault-ca.pem", binary)
    process = subprocess.Popen([binary, "server", "-dev", "-dev-tls", f"-dev-tls-cert-dir={home / 'tls'}",
                                f"-dev-listen-address={address}", "-dev-no-store-token"],
                               env={**os.environ, "HOME": str(home), "BAO_DEV_ROOT_TOKEN_ID": token},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_ready(server, process, time.monotonic() + 30)
        server.bao("operator", "seal")
        problem = _store(server, "x", VAULT_TOKEN=token).check_health()
        assert problem is not None and problem.kind is ProblemKind.SEALED
        assert "unseal" in problem.fix
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def test_a_load_is_one_read_of_the_newest_version_and_a_deleted_one_is_not_found(bao_env, unique_prefix):
    store = open_store(bao_env.uri(unique_prefix))
    store.store(LABEL, hmac_key(secret="a" * 64))
    store.replace(LABEL, hmac_key(secret="b" * 64))  # version 2
    calls: list[str] = []
    kv = store._connected().secrets.kv.v2
    for name in ("read_secret_version", "read_secret_metadata"):
        original = getattr(kv, name)
        setattr(kv, name, lambda *a, _n=name, _o=original, **k: (calls.append(_n), _o(*a, **k))[1])
    assert store.load(LABEL).secret.reveal() == "b" * 64
    assert calls == ["read_secret_version"]
    kv.delete_latest_version_of_secret(f"{unique_prefix}/{LABEL}", mount_point="secret")
    with pytest.raises(StoreError) as caught:
        store.load(LABEL)  # version 1 is still there, but the newest is deleted: not the key
    assert caught.value.problem.kind is ProblemKind.NOT_FOUND
