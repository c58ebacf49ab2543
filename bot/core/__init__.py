"""The neutral kernel: what features import. ``from bot.core import ...``."""

from bot.core.clock import Clock, FakeClock, SystemClock
from bot.core.commands import AttachedFile, CommandSpec, ParamKind, ParamSpec
from bot.core.context import CommandContext, Context, JobContext, Responder
from bot.core.errors import NotFound, NotSupported, PermissionDenied, StewardError, UserError
from bot.core.events import (
    Event,
    ForgetRequested,
    MemberJoined,
    MemberLeft,
    MemberUpdated,
    MessageDeleted,
    MessageEdited,
    MessagePosted,
    PlatformReady,
    ReactionAdded,
    ReactionRemoved,
    ThreadOpened,
)
from bot.core.feature import (
    Feature,
    command,
    component,
    endpoint,
    job,
    message_action,
    on,
    timer,
)
from bot.core.http import HttpContext, HttpRequest, HttpResponse
from bot.core.ids import ChannelRef, CommunityRef, MessageRef, Platform, RoleRef, UserRef
from bot.core.members import Level, Member
from bot.core.message import (
    Attachment,
    Button,
    Form,
    Message,
    Option,
    Select,
    TextInput,
    mention,
    plural,
)
from bot.core.port import Capability, Forum, Port
from bot.core.pressed import Pressed
from bot.core.runtime import Runtime
from bot.core.settings import FeatureSettings

__all__ = [
    "AttachedFile",
    "Attachment",
    "Button",
    "Capability",
    "ChannelRef",
    "Clock",
    "CommandContext",
    "CommandSpec",
    "CommunityRef",
    "Context",
    "Event",
    "FakeClock",
    "Feature",
    "FeatureSettings",
    "ForgetRequested",
    "Form",
    "Forum",
    "HttpContext",
    "HttpRequest",
    "HttpResponse",
    "JobContext",
    "Level",
    "Member",
    "MemberJoined",
    "MemberLeft",
    "MemberUpdated",
    "Message",
    "MessageDeleted",
    "MessageEdited",
    "MessagePosted",
    "MessageRef",
    "NotFound",
    "NotSupported",
    "Option",
    "ParamKind",
    "ParamSpec",
    "PermissionDenied",
    "Platform",
    "PlatformReady",
    "Port",
    "Pressed",
    "ReactionAdded",
    "ReactionRemoved",
    "Responder",
    "RoleRef",
    "Runtime",
    "Select",
    "StewardError",
    "SystemClock",
    "TextInput",
    "ThreadOpened",
    "UserError",
    "UserRef",
    "command",
    "component",
    "endpoint",
    "job",
    "mention",
    "message_action",
    "on",
    "plural",
    "timer",
]
