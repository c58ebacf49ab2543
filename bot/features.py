"""Finding the features to run: the built-in ``steward`` feature plus the cogs named in config."""

from __future__ import annotations

import importlib
import pkgutil

from bot.builtin import Steward
from bot.config import ConfigError
from bot.core.feature import Feature


def available() -> list[str]:
    """The names of every feature package under ``cogs/``."""
    import cogs

    return sorted(info.name for info in pkgutil.iter_modules(cogs.__path__) if info.ispkg)


def load(names: list[str]) -> list[Feature]:
    """Instantiate the named features (``all`` for every one), the built-in one first."""
    known = available()
    wanted = known if "all" in names else names
    unknown = [name for name in wanted if name not in known]
    if unknown:
        listing = ", ".join(known) or "none yet"
        raise ConfigError(
            f"STEWARD_FEATURES names unknown features: {', '.join(unknown)}. Available: {listing}."
        )
    loaded: list[Feature] = [Steward()]
    for name in wanted:
        module = importlib.import_module(f"cogs.{name}")
        feature_cls: type[Feature] = module.FEATURE
        loaded.append(feature_cls())
    return loaded
