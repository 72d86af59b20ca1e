"""FOCUS provider plugin for Billing Connector: FOCUS 1.0 to 1.2 exports from any cloud."""

from connector_focus.provider import FocusProvider
from connector_focus.settings import FocusSettings

__all__ = ["FocusProvider", "FocusSettings"]
