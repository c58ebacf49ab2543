"""Fixtures for the fake Slack: a validated fake per test and a real slack-bolt AsyncApp on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SESSION_LOG, FakeSlack, SpecValidator
from tests.sandbox.slack.slack_support import require_validator

# Variables that silently change slack_sdk / Bolt behaviour (proxies ignore NO_PROXY; OAuth mode).
_POISON = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_VERIFICATION_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
)


@pytest.fixture(scope="session", autouse=True)
def slack_methods_report() -> Iterator[None]:
    """At session end, write the Web API methods the fakes served to artifacts/slack-methods.txt."""
    yield
    if SESSION_LOG.methods:
        SESSION_LOG.write()


@pytest.fixture
def slack_validator() -> SpecValidator:
    """The shared validator built from ../shared/specs/slack."""
    return require_validator()


@pytest.fixture
def clean_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clear SLACK_* and proxy variables for the test."""
    for name in _POISON:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
async def fake_slack(
    slack_validator: SpecValidator, clean_slack_env: None
) -> AsyncIterator[FakeSlack]:
    """A started fake Slack; the test fails at teardown if anything broke Slack's description."""
    fake = FakeSlack(validate=slack_validator, method_log=SESSION_LOG, ack_deadline=2.0)
    async with fake:
        yield fake
    assert not fake.violations, "Slack spec violations:\n" + "\n".join(map(str, fake.violations))


@pytest.fixture
def make_app(fake_slack: FakeSlack) -> Callable[..., AsyncApp]:
    """Build a real AsyncApp whose client talks to the fake and retries 429s."""

    def build(*, process_before_response: bool = True) -> AsyncApp:
        client = AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url)
        client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=5))
        return AsyncApp(
            client=client,
            signing_secret=fake_slack.signing_secret,
            process_before_response=process_before_response,
        )

    return build


@pytest.fixture
async def socket_mode(
    fake_slack: FakeSlack,
) -> AsyncIterator[Callable[[AsyncApp], Awaitable[None]]]:
    """Connect apps over Socket Mode (apps.connections.open with the xapp- token, then /link)."""
    handlers: list[AsyncSocketModeHandler] = []

    async def connect(app: AsyncApp) -> None:
        fake_slack.use_socket_mode()
        handler = AsyncSocketModeHandler(app, app_token=fake_slack.app_token)
        handlers.append(handler)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        await fake_slack.wait_for(lambda: fake_slack.socket.connected)

    yield connect
    await fake_slack.settle()
    for handler in handlers:
        await handler.close_async()  # type: ignore[no-untyped-call]


@pytest.fixture
async def http_mode(fake_slack: FakeSlack) -> AsyncIterator[Callable[[AsyncApp], Awaitable[str]]]:
    """Serve apps over HTTP on loopback (Bolt's aiohttp adapter); the fake delivers there."""
    runners: list[web.AppRunner] = []

    async def serve(app: AsyncApp) -> str:
        runner = web.AppRunner(app.web_app(path="/slack/events"), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        url = f"http://127.0.0.1:{port}/slack/events"
        fake_slack.use_http(url)
        return url

    yield serve
    await fake_slack.settle()
    for runner in runners:
        await runner.cleanup()
