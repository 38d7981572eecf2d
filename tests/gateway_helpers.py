"""Shared helpers for the gateway tests (tests/test_gateway*.py).

Environments pointing at the simulated exchange (with and without /sapi), the
key material and ``Gateway`` for a preset sim key, the sim's request log as
(method, path, status) triples, and ``problem_of``, which awaits a gateway
call, insists it raises a clean ``ExchangeError`` and returns its problem.
Nothing here mocks HTTP.
"""

from __future__ import annotations

import dataclasses

import pytest

from wizard.exchange.gateway import Gateway
from wizard.exchange.model import Environment, ExchangeError, KeyMaterial
from wizard.secret import Secret


def env_of(sim) -> Environment:
    return Environment.custom(sim.base_url, simulated=True)


def no_sapi_env(sim) -> Environment:
    """The sim dressed as the Spot Testnet: /api only, permissions can only be probed."""
    return dataclasses.replace(Environment.testnet(), api_url=f"{sim.base_url}/api")


def material(sim_key, secret: str | None = None) -> KeyMaterial:
    value = secret or sim_key.secret or sim_key.private_key_pem
    return KeyMaterial(sim_key.api_key, sim_key.key_type, Secret(value))


def gateway(sim, name: str, *, env: Environment | None = None, **kwargs) -> Gateway:
    kwargs.setdefault("timeout", 5.0)
    return Gateway(env or env_of(sim), material(sim.keys[name]), **kwargs)


def calls(sim) -> list[tuple[str, str, int]]:
    return [(e.method, e.path, e.status) for e in sim.request_log]


async def problem_of(awaitable) -> object:
    with pytest.raises(ExchangeError) as info:
        await awaitable
    err = info.value
    # Nothing from python-binance (whose exception holds the request) is chained.
    assert err.__cause__ is None and err.__context__ is None
    return err.problem
