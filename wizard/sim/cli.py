"""``binance-key-wizard sim``: run the simulated exchange in the foreground.

With ``--json`` the first line on stdout is one JSON object (base URL, the
admin routes' token and every key with its simulated credentials) so a script
or test can read it and start talking; otherwise a short human summary. Serves until SIGINT/SIGTERM,
then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys

from wizard.sim.exchange import SimExchange


def summary(sim: SimExchange, base_url: str) -> str:
    """The human-readable banner: where it listens and which keys exist."""
    lines = [
        f"Simulated Binance exchange listening on {base_url}",
        f"  use it with:  binance-key-wizard --base-url {base_url}",
        f"  admin route:  {base_url}/_sim/state  (loopback only; see wizard/sim/admin.py)",
        f"  admin token:  {sim.admin_token}  (send it as the X-Sim-Token header)",
        "",
        "Preset keys (simulated credentials: they work only against this simulator):",
    ]
    for key in sim.keys.values():
        flags = [name for name, on in key.restrictions.items() if on is True and name != "ipRestrict"]
        where = ", ".join(key.ip_allowlist) if key.ip_allowlist else "any IP"
        state = "  [deleted]" if key.deleted else ""
        lines.append(f"  {key.name} ({key.key_type}){state}")
        lines.append(f"    api key:  {key.api_key}")
        if key.secret is not None:
            lines.append(f"    secret:   {key.secret}")
        if key.private_key_pem is not None:
            pem = key.private_key_pem.strip().replace("\n", "\n              ")
            lines.append(f"    private:  {pem}")
        lines.append(f"    allows:   {', '.join(flags) or 'nothing'}; IPs: {where}")
    lines.append("")
    lines.append("Press Ctrl+C to stop.")
    return "\n".join(lines)


async def serve(sim: SimExchange, port: int, as_json: bool) -> None:
    """Start, announce, and wait for SIGINT/SIGTERM."""
    base_url = await sim.start(port=port)
    if as_json:
        payload = {"base_url": base_url, "admin_token": sim.admin_token,
                   "keys": [key.as_json() for key in sim.keys.values()]}
        print(json.dumps(payload), flush=True)
    else:
        print(summary(sim, base_url), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C still raises
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def run(args: argparse.Namespace) -> int:
    """Entry point for the ``sim`` subcommand; returns the exit code."""
    sim = SimExchange()
    try:
        asyncio.run(serve(sim, int(args.port), bool(args.json)))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else "cannot bind"
        print(f"binance-key-wizard sim: cannot listen on 127.0.0.1:{args.port}: {reason}. "
              "Pick another --port, or 0 for any free one.", file=sys.stderr)
        return 2
    return 0
