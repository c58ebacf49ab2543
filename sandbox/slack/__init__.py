"""A protocol-faithful fake Slack (Web API, signed Events API, Socket Mode) for tests and sandboxes.

Usage (inside a running event loop)::

    async with FakeSlack(ack_deadline=2.0) as fake:
        client = AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)
        app = AsyncApp(client=client, signing_secret=fake.signing_secret)
        # Socket Mode: the handler calls apps.connections.open, which returns ws://127.0.0.1:PORT/link/
        fake.use_socket_mode()
        await AsyncSocketModeHandler(app, app_token=fake.app_token).connect_async()
        # ...or HTTP: serve app.web_app() on loopback, then fake.use_http("http://127.0.0.1:P/slack/events")
        alice = fake.add_user("alice")
        await fake.user_says(alice, "general", "hello")
        await fake.settle()
        assert fake.messages_in("general", by=fake.bot_user_id)

Every request, response and delivery is checked against Slack's descriptions in
``$STEWARD_SHARED_DIR/specs/slack`` (default ``<repo>/../shared/specs/slack``); mismatches collect
in ``fake.violations``. The documented exceptions live in ``sandbox.slack.allowlist``.
"""

from .delivery import Attempt, Delivery, DeliveryConfig, sign
from .fake import FakeSlack
from .faults import Faults
from .mentions import Pings
from .outcomes import Outcome, Shown, ViewOutcome
from .recording import SESSION_LOG, MethodLog
from .server import ApiCall
from .specs import SpecsNotFound, load_specs, missing_reason, specs_dir
from .state import Channel, Ephemeral, StoredFile, StoredMessage, Team, User, UserGroup, View
from .validate import SpecValidator, Violation, validator_for
from .webapi import implemented_methods

__all__ = [
    "SESSION_LOG",
    "ApiCall",
    "Attempt",
    "Channel",
    "Delivery",
    "DeliveryConfig",
    "Ephemeral",
    "FakeSlack",
    "Faults",
    "MethodLog",
    "Outcome",
    "Pings",
    "Shown",
    "SpecValidator",
    "SpecsNotFound",
    "StoredFile",
    "StoredMessage",
    "Team",
    "User",
    "UserGroup",
    "View",
    "ViewOutcome",
    "Violation",
    "implemented_methods",
    "load_specs",
    "missing_reason",
    "sign",
    "specs_dir",
    "validator_for",
]
