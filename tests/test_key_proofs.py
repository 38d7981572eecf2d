"""What proves a key deleted, and what a -2015 does and doesn't say (issue 11, items 2 and 8).

Binance answers a deleted or unknown key with -2008 "Invalid Api-Key ID." on
/sapi, and with -2015 on /api (so testnet and demo can't tell a deleted key
from a refused IP). A live key called from an IP outside its allowlist gets
-2015 with ", request ip: X" on /sapi. apiRestrictions is USER_DATA: a key
without Enable Reading is refused with -2015 too. All through real
python-binance against the simulator; no HTTP mocks.
"""

from __future__ import annotations

import pytest

from tests.gateway_helpers import gateway, no_sapi_env, problem_of
from tests.sim_helpers import api_error, client_for
from wizard.exchange.model import ProblemKind

pytestmark = pytest.mark.timeout(30)


async def test_sim_answers_a_deleted_key_like_binance(sim):
    key = sim.keys["read_only"]
    sim.delete_key(key.api_key)
    async with client_for(sim, "read_only") as client:
        sapi = await api_error(client.get_account_api_permissions())
        api = await api_error(client.get_account())
    assert (sapi.status_code, sapi.code, sapi.message) == (401, -2008, "Invalid Api-Key ID.")
    assert (api.status_code, api.code, api.message) == (
        401, -2015, "Invalid API-key, IP, or permissions for action.")


async def test_sim_appends_the_request_ip_to_a_refused_ip_on_sapi_only(sim):
    sim.client_ip = "198.51.100.9"
    async with client_for(sim, "read_only") as client:
        sapi = await api_error(client.get_account_api_permissions())
        api = await api_error(client.get_account())
    assert sapi.message == "Invalid API-key, IP, or permissions for action, request ip: 198.51.100.9"
    assert api.message == "Invalid API-key, IP, or permissions for action."


async def test_only_2008_on_sapi_proves_a_key_dead(sim):
    key = sim.keys["read_only"]
    async with gateway(sim, "read_only") as gw:
        assert await gw.confirm_key_dead() is None  # alive
        # The user only took this computer's IP off the old key: it is alive, and refused.
        sim.client_ip = "198.51.100.9"
        problem = await problem_of(gw.confirm_key_dead())
        assert problem.kind is ProblemKind.UNPROVEN and problem.code == -2015
        assert "doesn't prove" in problem.message and "-2008" in problem.message
        sim.client_ip = None
        sim.delete_key(key.api_key)
        dead = await gw.confirm_key_dead()
    assert dead is not None and dead.code == -2008 and dead.kind is ProblemKind.KEY_INVALID


async def test_reading_switched_off_is_not_proof_of_deletion(sim):
    key = sim.keys["read_only"]
    sim.set_permission(key.api_key, "enableReading", False)
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.confirm_key_dead())
    assert problem.kind is ProblemKind.UNPROVEN and "Enable Reading" in problem.message


async def test_without_sapi_deletion_cannot_be_proven(sim):
    env = no_sapi_env(sim)
    async with gateway(sim, "deleted", env=env) as gw:
        deleted = await problem_of(gw.confirm_key_dead())
    sim.client_ip = "198.51.100.9"
    async with gateway(sim, "read_only", env=env) as gw:
        refused = await problem_of(gw.confirm_key_dead())
    for problem in (deleted, refused):
        assert problem.kind is ProblemKind.UNPROVEN and problem.code == -2015
        assert "cannot prove" in problem.message and env.title in problem.message
    assert deleted.message == refused.message  # the two really look the same there


async def test_reading_off_is_not_reported_as_an_ip_problem(sim):
    sim.set_permission(sim.keys["read_only"].api_key, "enableReading", False)
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    assert problem.kind is not ProblemKind.IP_NOT_ALLOWED
    assert problem.code == -2015 and "Enable Reading" in problem.message + problem.fix


async def test_a_refused_ip_names_both_causes_and_the_ip(sim):
    sim.client_ip = "198.51.100.9"
    async with gateway(sim, "read_only") as gw:
        problem = await problem_of(gw.read_permissions())
    assert problem.kind is ProblemKind.READ_REFUSED and problem.exit_code == 4
    assert "198.51.100.9" in problem.message and "Enable Reading" in problem.message
