"""What the permission and IP steps share: reading the live key, and showing the result.

Rendering helpers return Textual markup that colours through theme variables,
so the same text reads well in light and dark themes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from textual.markup import escape

from wizard.exchange.model import KeyPermissions
from wizard.messages import AccountFactsRead, ExchangeFailed, PermissionsRead

if TYPE_CHECKING:
    from wizard.policy import Finding, Verdict
    from wizard.screens.base import StepScreen

SEVERITY_MARKS = {"block": ("✗", "$error"), "warn": ("!", "$warning"), "info": ("i", "$text-muted")}


async def read_key(screen: StepScreen, *, facts: bool) -> None:
    """Validate the session's key against the exchange and post the result to ``screen``.

    Runs inside the screen's worker. ``facts`` also reads what the API can
    see of the account checklist (a failure there is only "not seen").
    """
    from wizard.lifecycle import validate_key

    wizard, session = screen.wizard, screen.session
    key = session.key_material()
    if key is None:
        return
    doing = "reading the key's permissions"
    try:
        async with wizard.gateway(key) as gateway:
            check = await screen.bounded(validate_key(
                gateway, label=session.label, purpose=session.purpose, env=session.env,
                profile=session.profile, now=wizard.now()))
            screen.post_message(PermissionsRead(check, wizard.now()))
            if facts and check.problem is None:
                doing = "reading the account's status"
                screen.post_message(AccountFactsRead(await screen.bounded(gateway.account_facts())))
    except Exception as exc:  # noqa: BLE001 - every failure is shown, never fatal
        if doing.startswith("reading the key"):
            screen.post_message(ExchangeFailed(screen.problem(exc, doing), "permissions"))


def _state(value: bool | None) -> str:
    return {True: "on", False: "off", None: "unknown"}[value]


def permission_rows(intended: dict[str, bool], perms: KeyPermissions | None,
                    labels: dict[str, str]) -> str:
    """The side-by-side table: each Binance setting, what's needed, what the key has."""
    width = max(len(text) for text in labels.values())
    header = f"[b]{'Setting in API Management':<{width}}  Needed  This key[/b]"
    lines = [header]
    for attr, wanted in intended.items():
        have = getattr(perms, attr) if perms is not None else None
        if attr.startswith("fix_") and ((have is None and not wanted) or (
                perms is not None and perms.key_type == "hmac" and not have)):
            continue  # not reported, or an HMAC key: FIX settings exist only on Ed25519 keys
        if have is None:
            mark, style = "?", "$warning"  # never shown as fine: not verified
        elif bool(have) == wanted:
            mark, style = "✓", "$success"
        else:
            mark, style = "✗", "$error"
        need = "on" if wanted else "off"
        lines.append(f"{escape(labels.get(attr, attr)):<{width}}  {need:<6}  "
                     f"[{style}]{mark} {_state(have)}[/]")
    if perms is not None and perms.unknown_enabled:
        names = escape(", ".join(perms.unknown_enabled))
        lines.append(f"[$error]✗ unknown, treated as on: {names}[/]")
    return "\n".join(lines)


def findings_text(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """Each finding with its mark, message and the exact fix."""
    out = []
    for finding in findings:
        mark, style = SEVERITY_MARKS.get(finding.severity, ("•", "$text"))
        text = f"[{style}]{mark}[/] {escape(finding.message)}"
        if finding.fix and finding.severity != "info":
            text += f"\n  [b]Fix:[/b] {escape(finding.fix)}"
        elif finding.fix:
            text += f" {escape(finding.fix)}"
        out.append(text)
    return "\n".join(out)


def verdict_summary(verdict: Verdict | None, confirmed: bool | None) -> str:
    """One line: blocked, fine with warnings, or fine."""
    if verdict is None:
        return "[$warning]Not verified yet.[/]"
    if verdict.blocked:
        return "[$error b]Blocked:[/] the key must change in Binance before the wizard goes on."
    if not confirmed:
        return "[$warning b]Probed, not confirmed:[/] this environment cannot report permissions."
    if verdict.of_severity("warn"):
        return "[$warning b]Acceptable, with warnings below.[/]"
    return "[$success b]✓ The key has exactly the permissions it needs.[/]"


def format_when(moment: datetime | None) -> str:
    """A date and time in UTC for the user, or "unknown"."""
    if moment is None:
        return "unknown"
    return moment.strftime("%Y-%m-%d %H:%M UTC")
