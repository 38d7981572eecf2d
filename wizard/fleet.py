"""``check`` of many keys at once: bounded concurrency, one time sync, one registry write.

A fleet (a key per bot, per server, per sub-account) is checked with up to
``concurrency`` keys in flight: each key is read from its store in a thread,
then validated with one signed ``apiRestrictions`` read. What every key shares
is done once per run: the clock offset (one ``GET /api/v3/time`` per
environment, so N healthy keys cost N + 1 requests and weight N + 1), the
connections to the exchange (:mod:`wizard.exchange.connections`), the
store handle per keyring service, the profile file per path, and the registry
write at the end. The request pacer (:mod:`wizard.exchange.pacing`) keeps the
run under the exchange's weight limits, and a 429/418 puts the whole process in
a cool-down (:mod:`wizard.exchange.transport`): keys not yet checked come back
"not verified" at once instead of digging the ban deeper.

Results come back in the order asked for, whatever order they finish in. No
Textual here; python-binance is imported by the gateway, lazily.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wizard import lifecycle
from wizard.exchange.connections import shared_connections
from wizard.exchange.model import Environment, ExchangeError
from wizard.lifecycle import EXIT_CREDENTIALS, GatewayFactory, KeyCheck, failed_check

if TYPE_CHECKING:
    from wizard.profiles import Profile
    from wizard.registry import KeyRecord, Registry
    from wizard.vault import Vault

# Keys in flight. Binance limits weight per minute, not requests in flight: a key's check
# costs weight 1 on /sapi (IP limit 12000/min, the binding one) and 1 on /api for the
# run's time sync (6000/min). At 32 in flight and a 100 ms round trip that is 320 keys/s,
# so the sapi minute fills only past ~12000 keys, and before then the pacer
# (wizard/exchange/pacing.py) holds requests back from the header counts, not the
# concurrency. 16 left the run latency-bound (200 keys: 1.25 s of waiting at 100 ms).
DEFAULT_CONCURRENCY = 32
# Kept Secret Service connections: each costs a key exchange (~25 ms) once; reads on one
# take 2-3 ms, mostly waiting on gnome-keyring, which answers one at a time anyway.
READ_CONNECTIONS = 4
# (done, failing, total) after each key.
ProgressCallback = Callable[[int, int, int], None]


@dataclass
class FleetRun:
    """What one run shares between its keys: environments, vaults, profiles, the clock sync."""

    open_vault: Callable[[str], Vault]
    profile_for: Callable[[KeyRecord], Profile | None]
    env_override: Environment | None = None
    _envs: dict[tuple[str, str | None], Environment] = field(default_factory=dict)
    _vaults: dict[str, Vault] = field(default_factory=dict)
    _synced: dict[int, asyncio.Lock] = field(default_factory=dict)
    _sync_done: set[int] = field(default_factory=set)
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def environment(self, record: KeyRecord) -> Environment:
        """One Environment object per (env, base_url): gateways share their cache by identity."""
        if self.env_override is not None:
            return self.env_override
        key = (record.env, record.base_url)
        if key not in self._envs:
            self._envs[key] = lifecycle.record_environment(record)
        return self._envs[key]

    def vault(self, service: str) -> Vault:
        """One vault per keyring service (its backend is resolved once, its locks are per label),
        reading through kept connections until :meth:`close`."""
        if service not in self._vaults:
            vault = self._vaults[service] = self.open_vault(service)
            pooled = getattr(vault, "pooled_reads", None)
            if pooled is not None:
                self._stack.enter_context(pooled(READ_CONNECTIONS))
        return self._vaults[service]

    def close(self) -> None:
        """Close the kept keyring connections."""
        self._stack.close()

    def set_weight_budget(self, records: list[KeyRecord], budget: int) -> None:
        """``check --max-weight``: every API root this run talks to gets ``budget`` per window."""
        from wizard.exchange.pacing import set_budget

        for root in {self._api_root(r) for r in records} - {None}:
            set_budget(root, budget)

    def _api_root(self, record: KeyRecord) -> str | None:
        """The record's API root; None when its stored base_url is refused (its check says so)."""
        try:
            return self.environment(record).api_url
        except lifecycle.LifecycleError:
            return None

    def store_for(self, record: KeyRecord) -> Vault:
        """The store ``record``'s key lives in, one per URI: the keyring's per service through
        ``open_vault``, the others (systemd-creds, Vault/OpenBao) from the recorded URI."""
        from wizard.stores import open_store, parse_store_uri

        where = parse_store_uri(record.store_uri)
        if where.kind == "keyring":
            return self.vault(where.service)
        uri = str(where)  # a store URI never equals a service name: those can't hold ':'
        if uri not in self._vaults:
            self._vaults[uri] = open_store(where)
        return self._vaults[uri]

    async def sync_clock_once(self, env: Environment, gateway_factory: GatewayFactory) -> None:
        """The run's one time sync per environment; later keys reuse the offset.

        Concurrent keys wait for the first one's sync rather than each sending
        their own. A failed sync is not repeated here: each key's own check then
        syncs (and reports the problem) itself.
        """
        lock = self._synced.setdefault(id(env), asyncio.Lock())
        async with lock:
            if id(env) in self._sync_done:
                return
            self._sync_done.add(id(env))
            try:
                async with gateway_factory(env, None) as gateway:
                    await gateway.sync_time()
            except ExchangeError:
                pass


def profile_cache(fixed: Profile | None, load: Callable[[KeyRecord], Profile | None]
                  ) -> Callable[[KeyRecord], Profile | None]:
    """``fixed`` (``--profile``) for every key, else ``load(record)`` once per profile file."""
    loaded: dict[str | None, Profile | None] = {}

    def profile_for(record: KeyRecord) -> Profile | None:
        if fixed is not None:
            return fixed
        ref = getattr(record, "profile", None)
        if ref not in loaded:
            loaded[ref] = load(record)
        return loaded[ref]

    return profile_for


async def check_fleet(
    labels: list[str],
    records: dict[str, KeyRecord],
    *,
    registry: Registry,
    gateway_factory: GatewayFactory,
    run: FleetRun,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: ProgressCallback | None = None,
) -> list[KeyCheck]:
    """Check ``labels`` (in this order) with at most ``concurrency`` keys in flight.

    Unknown labels are exit 3 without any request. What each check read goes
    to the registry in one write at the end (also when the run is interrupted).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    results: list[KeyCheck | None] = [None] * len(labels)
    changes: dict[str, tuple[str, dict[str, Any]]] = {}
    # Two stages, each with its own bound: keyring reads run ahead of the exchange calls
    # (they wait on a different server), and a key holds an exchange slot only while
    # it is talking to the exchange.
    reading, talking = asyncio.Semaphore(2 * READ_CONNECTIONS), asyncio.Semaphore(concurrency)
    counts = [0, 0]  # done, failing

    def finished(index: int, result: KeyCheck) -> None:
        results[index] = result
        counts[0] += 1
        counts[1] += 0 if result.ok else 1
        if progress is not None:
            progress(counts[0], counts[1], len(labels))

    async def one(index: int, label: str) -> None:
        record = records.get(label)
        if record is None:
            finished(index, failed_check(label, EXIT_CREDENTIALS, lifecycle.credentials_missing(label)))
            return
        if record.pending:  # an add that is running or died: report it, never judge it as a key
            from wizard.consistency import unfinished_add_check

            async with reading:
                result = await unfinished_add_check(record, run.store_for(record), registry)
        else:
            await imported()
            result = await _check_record(record, run, gateway_factory, reading, talking)
        found = lifecycle.registry_changes(result)
        if found:
            changes[label] = (record.fingerprint, found)
            result = lifecycle.after_check(result, dataclasses.replace(record, **found))
        finished(index, result)

    async def imported() -> None:
        # Keys are read once python-binance's import (~0.6 s of CPU, in a thread) is done.
        # Read beside it, they slowed it down (both need the interpreter) while no key could
        # be judged before it finished: judging began ~1.6 s into a 200-key run, ~1.0 s now,
        # and the reads' waits overlap the first keys' requests instead (0.3-0.5 s less in all,
        # from the keyring and from OpenBao). A failed import is each key's own problem to report.
        with contextlib.suppress(Exception):
            await asyncio.shield(warm_up)

    from wizard.exchange.transport import load_python_binance

    warm_up = asyncio.ensure_future(load_python_binance())
    not_recorded = None
    try:
        # One pool of connections for every key's client: a key's request goes out on a
        # connection an earlier key opened, not after a TCP and a TLS handshake of its own.
        async with shared_connections(limit=concurrency):
            await asyncio.gather(*(one(i, label) for i, label in enumerate(labels)))
        await warm_up
    finally:  # what was read is recorded even if the run is cut short
        if not warm_up.done():
            warm_up.cancel()  # the import thread finishes on its own; nobody waits for it
        run.close()
        if changes:
            not_recorded = _record_all(registry, changes)
    done = [r for r in results if r is not None]
    if not_recorded is None:
        return done
    return [lifecycle.with_finding(r, not_recorded) if r.label in changes else r for r in done]


def _record_all(registry: Registry, changes: dict[str, tuple[str, dict[str, Any]]]) -> Any:
    """One registry write for the run; a registry that can't be written (read-only HOME) is a
    warning on each key, since the verdicts came from the exchange and stand."""
    from wizard.registry import RegistryError

    try:
        registry.update_many(changes)
    except RegistryError as exc:
        return lifecycle.not_recorded(exc)
    return None


async def _check_record(record: KeyRecord, run: FleetRun, gateway_factory: GatewayFactory,
                        reading: asyncio.Semaphore, talking: asyncio.Semaphore) -> KeyCheck:
    try:
        env = run.environment(record)
    except lifecycle.LifecycleError as exc:  # a stored base_url that breaks the URL rule: exit 3, no request
        return failed_check(record.label, exc.exit_code, exc.finding)
    # The store is read first: a key that can't be loaded costs no request at all.
    async with reading:
        stored = await lifecycle.load_stored(run.store_for(record), record.label)
    if isinstance(stored, KeyCheck):
        return stored
    async with talking:
        await run.sync_clock_once(env, gateway_factory)
        result = await lifecycle.judge_stored(record, stored, gateway_factory, env=env,
                                              profile=run.profile_for(record))
    from wizard.consistency import with_mismatch_warning

    return with_mismatch_warning(result, record, stored)  # a rotation killed before it was recorded
