"""Alembic, driven from code: upgrade, downgrade and check against the models."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import pkgutil
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import MetaData

from bot.db.base import Base
from bot.db.engine import normalize_url

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def load_all_models() -> MetaData:
    """Import the shared models and every feature's ``_models`` module; return the metadata."""
    importlib.import_module("bot.db.models")
    import cogs

    for info in pkgutil.iter_modules(cogs.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"cogs.{info.name}._models")
            except ModuleNotFoundError as exc:
                if exc.name != f"cogs.{info.name}._models":
                    raise
    return Base.metadata


def alembic_config(url: str) -> AlembicConfig:
    """An Alembic config for ``url`` with Steward's migrations folder."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = normalize_url(url)
    return cfg


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (blocking; env.py runs its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` without blocking the running event loop."""
    await asyncio.to_thread(upgrade_sync, url, revision)


async def downgrade(url: str, revision: str) -> None:
    """Downgrade the database to ``revision``."""
    await asyncio.to_thread(command.downgrade, alembic_config(url), revision)


def _check_quietly(url: str) -> None:
    config = alembic_config(url)
    config.stdout = io.StringIO()  # Alembic prints "No new upgrade operations detected."
    with contextlib.redirect_stdout(io.StringIO()):
        command.check(config)


async def check(url: str) -> None:
    """Raise when the models and the migrated schema disagree (``alembic check``)."""
    await asyncio.to_thread(_check_quietly, url)
