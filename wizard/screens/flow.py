"""The order of the wizard's steps and the screen for each."""

from __future__ import annotations

from wizard.screens.base import StepScreen
from wizard.screens.checklist import ChecklistScreen
from wizard.screens.ip import IpScreen
from wizard.screens.label import LabelScreen
from wizard.screens.permissions import PermissionsScreen
from wizard.screens.retire import RetireScreen
from wizard.screens.smoke import SmokeTestScreen
from wizard.screens.store import StoreScreen
from wizard.screens.summary import SummaryScreen
from wizard.screens.welcome import WelcomeScreen

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

SCREENS: dict[str, type[StepScreen]] = {
    "welcome": WelcomeScreen,
    "checklist": ChecklistScreen,
    "label": LabelScreen,
    "permissions": PermissionsScreen,
    "ip": IpScreen,
    "store": StoreScreen,
    "test": SmokeTestScreen,
    "summary": SummaryScreen,
    "retire": RetireScreen,
}

__all__ = ["SCREENS", "STEP_TITLES", "StepScreen"]
