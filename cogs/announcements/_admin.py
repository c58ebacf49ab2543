"""Bodies of the longer manager commands, so ``feature.py`` stays a list of declarations."""

from __future__ import annotations

from bot.core import (
    AttachedFile,
    Attachment,
    CommandContext,
    FeatureSettings,
    Message,
    UserError,
    plural,
)
from bot.core.parsing import digits_value
from cogs.announcements import _texts as texts
from cogs.announcements._checks import find_source
from cogs.announcements._fetch import Fetcher, FetchError, check_url
from cogs.announcements._identity import decide
from cogs.announcements._opml import export, feed_urls
from cogs.announcements._repo import Repo
from cogs.announcements._routes import filter_report
from cogs.announcements._service import policy_of
from cogs.announcements._source import read_feed
from cogs.announcements._xmlsafe import UnsafeXml

Ctx = CommandContext[FeatureSettings]


def checked(url: str) -> str:
    """A feed address Steward may fetch, or ``UserError`` saying why not."""
    try:
        return str(check_url(url))
    except FetchError as exc:
        raise UserError(texts.problem_text(url, exc)) from exc


async def check_text(ctx: Ctx, fetcher: Fetcher, feed: str) -> str:
    """What ``/announcements check`` shows: the feed, what would be posted, the filters' say."""
    repo = Repo(ctx.uow.session, ctx.community)
    row = await find_source(repo, feed) if digits_value(feed.strip()) is not None else None
    row = row or await repo.by_url(texts.clean_url(feed))
    if row is not None and row.kind == "webhook":
        raise UserError(f"{row.id} is a webhook: its items come when the sender posts them.")
    url = row.url if row else checked(texts.clean_url(feed))
    reading = await read_feed(fetcher, url)
    if reading.feed is None or reading.fetched is None:
        raise UserError(texts.problem_text(url, reading.error))
    text = texts.found_text(reading.feed, reading.fetched.url)
    if row is not None:
        verdict = decide(
            reading.feed.items,
            await repo.seen(row.id),
            policy_of(row),
            ctx.clock.now(),
            first=not row.primed,
        )
        text += "\n" + texts.would_post_text(verdict, await repo.log_of(row.id))
        source = row.title or row.url
        report = filter_report(await repo.routes(row.id), reading.feed.items, source)
        text += "\n" + report if report else ""
    return text


async def opml_export(ctx: Ctx) -> Message:
    """The community's feeds as an OPML file."""
    rows = [r for r in await Repo(ctx.uow.session, ctx.community).feeds() if r.kind == "feed"]
    if not rows:  # webhooks are not feeds a reader could follow
        raise UserError("There are no feeds to export yet: add one with `/announcements add`.")
    data = export("Steward announcements", [(r.title, r.url) for r in rows])
    return Message(
        text=f"{plural(len(rows), 'feed')}, as OPML.",
        files=(Attachment("announcements.opml", data, "Feeds as OPML"),),
    )


MAX_OPML_FILE = 1024 * 1024
"""The biggest attached OPML file Steward reads (1 MiB: thousands of feeds)."""


async def opml_urls(
    fetcher: Fetcher, opml: str | None, file: AttachedFile | None = None
) -> list[str]:
    """The feed addresses of an OPML file, at a web address or attached (``UserError`` when
    neither or both are given, or the file is too big or not OPML)."""
    if opml and file is not None:
        raise UserError("Give either the OPML file's web address or the file itself, not both.")
    if file is not None:
        data = await file.read(MAX_OPML_FILE)
        try:
            return list(feed_urls(data))
        except UnsafeXml as exc:
            raise UserError(f"{file.filename[:100]} is not an OPML file I can read.") from exc
    if not opml:
        raise UserError(
            "Give the web address of an OPML file"
            " (on Discord you can attach the file instead, as `file`)."
        )
    return await _opml_at(fetcher, opml)


async def _opml_at(fetcher: Fetcher, opml: str) -> list[str]:
    """The feed addresses an OPML file at a web address lists (``UserError`` if unreadable)."""
    try:
        fetched = await fetcher.get(checked(texts.clean_url(opml)))
        return list(feed_urls(fetched.body or b""))
    except FetchError as exc:
        raise UserError(texts.problem_text(opml, exc)) from exc
    except UnsafeXml as exc:
        raise UserError(f"{texts.clean_url(opml)[:200]} is not an OPML file I can read.") from exc
