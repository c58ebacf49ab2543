"""Fetching a feed politely and safely: conditional GET, caps, timeouts, checked redirects.

Everything that can go wrong comes back as one ``FetchError`` with a ``Problem`` a manager can
read; nothing else leaves ``Fetcher.get``. The bytes go to the parser; no URL ever does.
"""

from __future__ import annotations

import asyncio
import contextvars
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.core.guard import AddressPolicy, BlockedDestination
from cogs.announcements._httpcache import freshness, retry_after

MAX_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_blocked: contextvars.ContextVar[list[BlockedDestination] | None] = contextvars.ContextVar(
    "steward_blocked", default=None
)


class Problem(StrEnum):
    """What went wrong with a fetch, in the words a manager is told."""

    BAD_URL = "that is not a web address Steward can fetch"
    BLOCKED = "the address is on a private or internal network"
    DNS = "the name does not resolve (DNS)"
    TIMEOUT = "the server took too long to answer"
    CONNECTION = "the server could not be reached"
    HTTP = "the server answered with an error"
    TOO_BIG = "the feed is larger than 5 MiB"
    REDIRECTS = "too many redirects, or a redirect Steward will not follow"
    NOT_A_FEED = "the page is not a feed"


class FetchError(Exception):
    """A fetch that failed, with the problem, the HTTP status if any, and when to try again."""

    def __init__(
        self,
        problem: Problem,
        detail: str = "",
        status: int | None = None,
        wait: float | None = None,
    ) -> None:
        super().__init__(f"{problem.name}: {detail}" if detail else problem.name)
        self.problem = problem
        self.detail = detail
        self.status = status
        self.retry_after = wait

    def explain(self) -> str:
        """The problem in plain words, with the status or blocked address where it helps."""
        text: str = self.problem.value
        if self.status is not None:
            text += f" (HTTP {self.status})"
        elif self.problem is Problem.BLOCKED and self.detail:
            text += f" ({self.detail})"
        return text


@dataclass(frozen=True, slots=True)
class Validators:
    """What the last good answer said about itself, for a conditional GET next time."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A successful fetch: new bytes (status 200) or nothing new (304)."""

    url: str
    status: int
    body: bytes | None
    validators: Validators
    fresh_for: float | None = None

    @property
    def modified(self) -> bool:
        """Whether the server sent new content."""
        return self.status != 304


@dataclass(frozen=True, slots=True)
class Limits:
    """Timeouts (seconds), size cap and per-host concurrency; tests shrink them."""

    total: float = 30.0
    connect: float = 5.0
    read: float = 15.0
    max_bytes: int = MAX_BYTES
    per_host: int = 2


def check_url(url: str) -> URL:
    """The URL, parsed, if it is an http(s) address without credentials; else ``FetchError``."""
    if not url.strip().isprintable():  # a control character: no address (and no XML) has one
        raise FetchError(Problem.BAD_URL, "control characters")
    try:
        parsed = URL(url.strip())
    except (ValueError, TypeError) as exc:
        raise FetchError(Problem.BAD_URL, "unparseable") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchError(Problem.BAD_URL, f"scheme {parsed.scheme or 'missing'}")
    if parsed.user is not None or parsed.password is not None:
        raise FetchError(Problem.BAD_URL, "credentials in the address")
    return parsed


class Fetcher:
    """One shared aiohttp session that only ever connects where the ``AddressPolicy`` allows."""

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        *,
        limits: Limits | None = None,
        resolver: AbstractResolver | None = None,
        user_agent: str = "Steward feed relay (+https://github.com/steward)",
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.limits = limits or Limits()
        self._resolver = resolver
        self._agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                resolver=self._resolver,
                use_dns_cache=False,  # each connect resolves again; the socket check sees it all
                limit=100,
                limit_per_host=self.limits.per_host,
                socket_factory=self._socket,
            )
            timeout = aiohttp.ClientTimeout(
                total=self.limits.total,
                sock_connect=self.limits.connect,
                sock_read=self.limits.read,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=timeout,
                trust_env=False,  # HTTP(S)_PROXY would hide the real destination from the check
                headers={"User-Agent": self._agent, "Accept-Encoding": "gzip, deflate"},
            )
        return self._session

    def _socket(self, addr_info: Any) -> socket.socket:
        try:
            return self.policy.socket_factory(addr_info)
        except BlockedDestination as exc:
            seen = _blocked.get()
            if seen is not None:
                seen.append(exc)
            raise

    async def get(self, url: str, validators: Validators | None = None) -> Fetched:
        """Fetch ``url`` (conditionally when validators are given); raises only ``FetchError``."""
        target = check_url(url)
        token = _blocked.set([])
        try:
            return await self._follow(target, validators or Validators())
        finally:
            _blocked.reset(token)

    async def post_form(self, url: str, form: Mapping[str, str]) -> int:
        """POST a form (a request to a WebSub hub) where the policy allows; the status, or
        ``FetchError``. Redirects are not followed: a hub answers where it is asked."""
        target = check_url(url)
        token = _blocked.set([])
        session = self._open()
        try:
            async with (
                asyncio.timeout(self.limits.total),
                session.post(target, data=dict(form), allow_redirects=False) as resp,
            ):
                return resp.status
        except aiohttp.ClientConnectorDNSError as exc:
            raise FetchError(Problem.DNS, target.host or "") from exc
        except aiohttp.ClientConnectorError as exc:
            raise self._connect_error(exc) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise FetchError(Problem.TIMEOUT) from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise FetchError(Problem.CONNECTION, type(exc).__name__) from exc
        finally:
            _blocked.reset(token)

    async def _follow(self, target: URL, validators: Validators) -> Fetched:
        for _hop in range(MAX_REDIRECTS + 1):
            status, headers, body = await self._request(target, validators)
            if status not in _REDIRECTS:
                return self._answer(target, status, headers, body, validators)
            location = headers.get("Location")
            if not location:
                raise FetchError(Problem.REDIRECTS, "redirect without a location", status)
            following = check_url(urljoin(str(target), location))
            if target.scheme == "https" and following.scheme == "http":
                raise FetchError(Problem.REDIRECTS, "https to http downgrade", status)
            target = following
        raise FetchError(Problem.REDIRECTS, f"more than {MAX_REDIRECTS}")

    def _answer(
        self,
        target: URL,
        status: int,
        headers: Mapping[str, str],
        body: bytes | None,
        validators: Validators,
    ) -> Fetched:
        if status == 304:
            return Fetched(str(target), 304, None, validators, freshness(headers))
        if status != 200 or body is None:
            raise FetchError(Problem.HTTP, "", status, retry_after(headers))
        fresh = Validators(headers.get("ETag") or None, headers.get("Last-Modified") or None)
        return Fetched(str(target), 200, body, fresh, freshness(headers))

    async def _request(
        self, target: URL, validators: Validators
    ) -> tuple[int, Mapping[str, str], bytes | None]:
        session = self._open()
        send: dict[str, str] = {}
        # Never an empty If-None-Match: some servers answer it with 200 every time.
        if validators.etag:
            send["If-None-Match"] = validators.etag
        if validators.last_modified:
            send["If-Modified-Since"] = validators.last_modified
        gate = self._hosts.setdefault(target.host or "", asyncio.Semaphore(self.limits.per_host))
        # The clock starts once the host's turn comes: waiting behind its other feeds is
        # politeness, not the server being slow.
        async with gate:
            try:
                async with (
                    asyncio.timeout(self.limits.total),
                    session.get(target, headers=send, allow_redirects=False) as resp,
                ):
                    if resp.status != 200:
                        return resp.status, resp.headers, None
                    return 200, resp.headers, await self._read(resp)
            except FetchError:
                raise
            except aiohttp.ClientConnectorDNSError as exc:
                raise FetchError(Problem.DNS, target.host or "") from exc
            except aiohttp.ClientConnectorError as exc:
                raise self._connect_error(exc) from exc
            except aiohttp.InvalidURL as exc:
                raise FetchError(Problem.BAD_URL, "not a valid address") from exc
            except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
                raise FetchError(Problem.TIMEOUT) from exc
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                raise FetchError(Problem.CONNECTION, type(exc).__name__) from exc

    def _connect_error(self, exc: aiohttp.ClientConnectorError) -> FetchError:
        seen = _blocked.get() or []
        if isinstance(exc.os_error, BlockedDestination) or seen:
            blocked = exc.os_error if isinstance(exc.os_error, BlockedDestination) else seen[-1]
            return FetchError(Problem.BLOCKED, blocked.address)
        return FetchError(Problem.CONNECTION, type(exc.os_error).__name__)

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        """The decoded body, stopping the moment it passes the cap (a gzip bomb stops there)."""
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            total += len(chunk)
            if total > self.limits.max_bytes:
                resp.close()
                raise FetchError(Problem.TOO_BIG, f"over {self.limits.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
