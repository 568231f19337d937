"""Moved to ``settlement_research.geo.regions``; this name is kept so existing imports keep working."""

from settlement_research.geo.regions import *  # noqa: F403
from settlement_research.geo.regions import __all__  # noqa: F401
