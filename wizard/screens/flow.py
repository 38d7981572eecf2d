"""The order of the wizard's steps and the screen for each."""

from __future__ import annotations

import importlib

from wizard.screens.base import StepScreen

# Step name -> short title for the stepper, in order ("retire" only when rotating).
STEP_TITLES: dict[str, str] = {
    "welcome": "Start",
    "checklist": "1 Prepare",
    "label": "2 Label",
    "permissions": "3 Permissions",
    "ip": "4 IP",
    "store": "5 Store",
    "test": "6 Test",
    "summary": "Done",
    "retire": "Retire old",
}

# Step name -> (module, class): imported when the step is first shown, so the
# first frame pays only for the welcome screen.
_SCREENS: dict[str, tuple[str, str]] = {
    "welcome": ("wizard.screens.welcome", "WelcomeScreen"),
    "checklist": ("wizard.screens.checklist", "ChecklistScreen"),
    "label": ("wizard.screens.label", "LabelScreen"),
    "permissions": ("wizard.screens.permissions", "PermissionsScreen"),
    "ip": ("wizard.screens.ip", "IpScreen"),
    "store": ("wizard.screens.store", "StoreScreen"),
    "test": ("wizard.screens.smoke", "SmokeTestScreen"),
    "summary": ("wizard.screens.summary", "SummaryScreen"),
    "retire": ("wizard.screens.retire", "RetireScreen"),
}


def screen_class(name: str) -> type[StepScreen]:
    """The screen class of step ``name``, its module imported on first use."""
    module, cls = _SCREENS[name]
    return getattr(importlib.import_module(module), cls)


__all__ = ["STEP_TITLES", "StepScreen", "screen_class"]
