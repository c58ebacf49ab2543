"""The engagement writer process's composition root (``python -m bot.writer``).

Steward starts it beside itself (``cogs.engagement._writer.WriterLink``). Building the database and
the log's secret filter is a composition root's job, so it happens here, not inside the feature.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from sqlalchemy.engine import make_url

from bot.config import RedactSecrets
from bot.db.engine import Database
from bot.heap import cap_arenas, trim_forever
from cogs.engagement._writer import serve


def open_db(url: str) -> Database:
    """The database at ``url``, its password kept out of every log line from now on."""
    password = make_url(url).password
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactSecrets([password] if password else []))
    return Database(url)


async def run(output: Any) -> None:
    """Serve batches until told to stop, handing freed memory back now and then (as Steward's
    own process does: ``bot.heap.trim_forever``)."""
    trimming = asyncio.create_task(trim_forever(), name="malloc-trim")
    try:
        await serve(output, open_db)
    finally:
        trimming.cancel()


def main() -> None:
    """The process entry: acks go to a private copy of stdout; anything printed goes to stderr."""
    cap_arenas()
    output = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(BrokenPipeError):  # Steward is gone: nobody to acknowledge to
        asyncio.run(run(output))


if __name__ == "__main__":
    main()
