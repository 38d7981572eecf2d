"""The walk-throughs shown on the label screen (kept apart so the screen stays short)."""

from __future__ import annotations

ED25519_STEPS = (
    "[b]Register it in Binance[/b]\n"
    "1. In API Management choose [b]Create API[/b] → [b]Self-generated[/b].\n"
    "2. Enter the label above.\n"
    "3. Paste the public key shown above (Copy public key; it is not secret).\n"
    "4. Complete Binance's security verification (2FA).\n"
    "5. Binance shows the new API key: paste it under API key below.\n"
)

HMAC_STEPS = (
    "[b]Create it in Binance[/b]\n"
    "1. In API Management choose [b]Create API[/b] → [b]System generated[/b].\n"
    "2. Enter the label above and complete the security verification (2FA).\n"
    "3. Binance shows the API Key and the Secret Key — the secret only once. Paste both below;\n"
    "   the secret field is masked and cannot be copied out.\n"
)


def restrictions_step(purpose: str) -> str:
    """The last walk-through step: which boxes to tick for this purpose."""
    ticks = "keep [b]Enable Reading[/b]"
    if purpose == "spot":
        ticks += " and tick [b]Enable Spot & Margin Trading[/b]"
    return (f"Then [b]Edit restrictions[/b]: {ticks}; leave everything else unticked — "
            "[b]never[/b] Enable Withdrawals. The next step checks this on the live key.")
