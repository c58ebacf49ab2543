"""A protocol-faithful fake Discord (REST + gateway) for tests and ``steward sandbox``.

Start it with ``async with FakeDiscord() as fake:``, point discord.py at ``fake.api_base`` and
``fake.gateway_url`` (``bot.adapters.discord.endpoints.configure_endpoints``), then act as people
would in the client (``fake.user_says``, ``fake.invoke_slash``, ``fake.click``...) and read back
what they see (``fake.sees``, ``fake.dms_of``, ``InteractionResult``). Every REST exchange is
checked against Discord's OpenAPI description; mismatches collect in ``fake.violations``.
"""

from .gateway import Intent
from .interactions import InteractionResult
from .permissions import ALL_PERMISSIONS, DEFAULT_EVERYONE, Permission, channel_permissions
from .recording import OperationLog, default_operation_log
from .rest import RequestRecord
from .server import FakeDiscord
from .state import Channel, Guild, Member, Message, Role, User
from .validate import (
    SPEC_EXCEPTIONS,
    Spec,
    SpecException,
    SpecNotFound,
    SpecValidator,
    Violation,
    load_spec,
    spec_path,
)

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_EVERYONE",
    "SPEC_EXCEPTIONS",
    "Channel",
    "FakeDiscord",
    "Guild",
    "Intent",
    "InteractionResult",
    "Member",
    "Message",
    "OperationLog",
    "Permission",
    "RequestRecord",
    "Role",
    "Spec",
    "SpecException",
    "SpecNotFound",
    "SpecValidator",
    "User",
    "Violation",
    "channel_permissions",
    "default_operation_log",
    "load_spec",
    "spec_path",
]
