"""The unit of work: one transaction, rolled back unless committed, with after-commit hooks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession

AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    """One transaction. Rolls back on exit unless ``commit()`` was called."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after_commit: list[AfterCommit] = []

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            await self.session.rollback()
        finally:
            await self.session.close()
            self._after_commit.clear()

    def after_commit(self, hook: AfterCommit) -> None:
        """Run ``hook`` once the current transaction has committed; dropped on rollback."""
        self._after_commit.append(hook)

    def will_run(self, hook: AfterCommit) -> bool:
        """Whether ``hook`` is registered to run after the current transaction commits."""
        return hook in self._after_commit

    async def commit(self) -> None:
        """Commit, then run the hooks registered for this transaction."""
        await self.session.commit()
        hooks, self._after_commit = self._after_commit, []
        for hook in hooks:
            await hook()

    async def rollback(self) -> None:
        """Roll back and forget the hooks."""
        await self.session.rollback()
        self._after_commit.clear()
