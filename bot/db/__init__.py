"""Storage: engines, the unit of work and the shared tables."""

from bot.db.engine import Database
from bot.db.uow import UnitOfWork

__all__ = ["Database", "UnitOfWork"]
