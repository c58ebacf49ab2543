"""Block Kit as Slack's reference describes it: block and element types, required fields, limits.

Every rule names its source: a page under https://docs.slack.dev/reference/block-kit/ (blocks,
block elements, composition objects) or the surface's page (messages, modals, Home tabs). A
problem is returned as text; the fake records it as a violation and refuses the call as Slack
does (``invalid_blocks`` for messages, ``invalid_arguments`` for views).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Problems = list[str]

# Surfaces: "Messages: up to 50 blocks" (docs.slack.dev/messaging, "Block Kit" section and
# chat.postMessage's `blocks` argument); "modals and Home tabs: up to 100 blocks"
# (docs.slack.dev/reference/views/modal-views and .../home-tab-views).
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}

# Block types each surface accepts (docs.slack.dev/reference/block-kit/blocks: "Available in
# surfaces" of each block). rich_text arrives in what people write; apps may send it too.
_MESSAGE_BLOCKS = {"actions", "context", "divider", "file", "header", "image", "rich_text"}
_MESSAGE_BLOCKS |= {"section", "video", "markdown", "input"}
_VIEW_BLOCKS = {"actions", "context", "divider", "header", "image", "input", "rich_text"}
_VIEW_BLOCKS |= {"section", "video"}
SURFACE_BLOCKS = {"message": _MESSAGE_BLOCKS, "modal": _VIEW_BLOCKS, "home": _VIEW_BLOCKS}

# Elements an actions block may hold (docs.slack.dev/reference/block-kit/blocks/actions-block:
# "elements: an array of interactive element objects ... maximum of 25 elements").
ACTION_ELEMENTS = {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "overflow",
    "radio_buttons",
    "rich_text_input",
    "timepicker",
    "workflow_button",
}
ACTION_ELEMENTS |= {f"{kind}_select" for kind in ("static", "external", "users")}
ACTION_ELEMENTS |= {f"{kind}_select" for kind in ("conversations", "channels")}
ACTION_ELEMENTS |= {f"multi_{kind}" for kind in list(ACTION_ELEMENTS) if kind.endswith("_select")}
# Input blocks take these (docs.slack.dev/reference/block-kit/blocks/input-block: "element").
INPUT_ELEMENTS = (ACTION_ELEMENTS - {"button", "overflow", "workflow_button"}) | {
    "plain_text_input",
    "email_text_input",
    "number_input",
    "url_text_input",
    "file_input",
}


def _text(node: Any, where: str, limit: int, *, plain: bool = False) -> Problems:
    """A text object (docs.slack.dev/reference/block-kit/composition-objects/text-object):
    type plain_text or mrkdwn, a non-empty `text` of at most ``limit`` characters (the limit is
    the field's own, from its block's or element's page); emoji only on plain_text."""
    if not isinstance(node, dict):
        return [f"{where}: a text object is required"]
    kind = node.get("type")
    if kind not in ("plain_text", "mrkdwn") or (plain and kind != "plain_text"):
        wanted = "plain_text" if plain else "plain_text or mrkdwn"
        return [f"{where}: type must be {wanted}, got {kind!r}"]
    text = node.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}.text: required, 1 character at least"]
    problems = []
    if len(text) > limit:
        problems.append(f"{where}.text: {len(text)} characters, at most {limit}")
    if "emoji" in node and kind != "plain_text":
        problems.append(f"{where}: emoji is only for plain_text")
    return problems


def _max_len(node: dict[str, Any], key: str, limit: int, where: str) -> Problems:
    value = node.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > limit):
        return [f"{where}.{key}: at most {limit} characters"]
    return []


def _option(node: Any, where: str) -> Problems:
    """Option object (.../composition-objects/option-object): text (plain_text in selects) at
    most 75, value at most 150 (required), description at most 75."""
    if not isinstance(node, dict):
        return [f"{where}: an option object is required"]
    problems = _text(node.get("text"), f"{where}.text", 75, plain=True)
    value = node.get("value")
    if not isinstance(value, str) or not value:
        problems.append(f"{where}.value: required")
    problems += _max_len(node, "value", 150, where)
    if "description" in node:
        problems += _text(node["description"], f"{where}.description", 75, plain=True)
    return problems


def _element(node: Any, where: str, allowed: set[str]) -> Problems:
    if not isinstance(node, dict):
        return [f"{where}: an element object is required"]
    kind = str(node.get("type"))
    if kind not in allowed:
        return [f"{where}: element type {kind!r} is not allowed here"]
    # action_id: "Maximum length is 255 characters" (every interactive element's page).
    problems = _max_len(node, "action_id", 255, where)
    if kind == "button":  # .../block-elements/button-element
        problems += _text(node.get("text"), f"{where}.text", 75, plain=True)
        problems += _max_len(node, "value", 2000, where)
        problems += _max_len(node, "url", 3000, where)
        if node.get("style") not in (None, "primary", "danger"):
            problems.append(f"{where}.style: primary or danger")
    elif kind in ("static_select", "multi_static_select"):  # .../select-menu-element
        options = node.get("options")
        if not isinstance(options, list) or not options:
            if "option_groups" not in node:
                problems.append(f"{where}.options: required (or option_groups)")
            options = []
        if len(options) > 100:
            problems.append(f"{where}.options: {len(options)}, at most 100")
        for i, option in enumerate(options):
            problems += _option(option, f"{where}.options[{i}]")
        if "placeholder" in node:
            problems += _text(node["placeholder"], f"{where}.placeholder", 150, plain=True)
        most = node.get("max_selected_items")
        if most is not None and (not isinstance(most, int) or most < 1):
            problems.append(f"{where}.max_selected_items: 1 at least")
    elif kind == "plain_text_input":  # .../block-elements/plain-text-input-element
        if "placeholder" in node:
            problems += _text(node["placeholder"], f"{where}.placeholder", 150, plain=True)
        for key in ("min_length", "max_length"):
            value = node.get(key)
            if value is not None and (not isinstance(value, int) or not 0 <= value <= 3000):
                problems.append(f"{where}.{key}: 0 to 3000")
    return problems


def _section(block: dict[str, Any], where: str) -> Problems:
    """Section block (.../blocks/section-block): text at most 3000, or fields (at most 10, each
    at most 2000); one of the two is required."""
    problems: Problems = []
    if "text" not in block and "fields" not in block:
        return [f"{where}: text or fields is required"]
    if "text" in block:
        problems += _text(block["text"], f"{where}.text", 3000)
    fields = block.get("fields", [])
    if len(fields) > 10:
        problems.append(f"{where}.fields: {len(fields)}, at most 10")
    for i, item in enumerate(fields):
        problems += _text(item, f"{where}.fields[{i}]", 2000)
    if "accessory" in block:
        problems += _element(block["accessory"], f"{where}.accessory", ACTION_ELEMENTS | {"image"})
    return problems


def _actions(block: dict[str, Any], where: str) -> Problems:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [f"{where}.elements: required, 1 at least"]
    problems = [f"{where}.elements: {len(elements)}, at most 25"] if len(elements) > 25 else []
    for i, element in enumerate(elements):
        problems += _element(element, f"{where}.elements[{i}]", ACTION_ELEMENTS)
    return problems


def _context(block: dict[str, Any], where: str) -> Problems:
    """Context block (.../blocks/context-block): 1 to 10 image or text elements."""
    elements = block.get("elements")
    if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
        return [f"{where}.elements: 1 to 10 required"]
    return [
        problem
        for i, item in enumerate(elements)
        if isinstance(item, dict) and item.get("type") != "image"
        for problem in _text(item, f"{where}.elements[{i}]", 3000)
    ]


def _input(block: dict[str, Any], where: str) -> Problems:
    """Input block (.../blocks/input-block): label plain_text at most 2000, an element, hint at
    most 2000."""
    problems = _text(block.get("label"), f"{where}.label", 2000, plain=True)
    problems += _element(block.get("element"), f"{where}.element", INPUT_ELEMENTS)
    if "hint" in block:
        problems += _text(block["hint"], f"{where}.hint", 2000, plain=True)
    return problems


def _header(block: dict[str, Any], where: str) -> Problems:
    """Header block (.../blocks/header-block): plain_text at most 150."""
    return _text(block.get("text"), f"{where}.text", 150, plain=True)


def _image(block: dict[str, Any], where: str) -> Problems:
    """Image block (.../blocks/image-block): alt_text at most 2000 (required), image_url at
    most 3000 or slack_file."""
    problems: Problems = []
    if not isinstance(block.get("alt_text"), str) or not block.get("alt_text"):
        problems.append(f"{where}.alt_text: required")
    if "image_url" not in block and "slack_file" not in block:
        problems.append(f"{where}: image_url or slack_file is required")
    return (
        problems
        + _max_len(block, "alt_text", 2000, where)
        + _max_len(block, "image_url", 3000, where)
    )


def _nothing(block: dict[str, Any], where: str) -> Problems:
    return []


_BLOCKS: dict[str, Callable[[dict[str, Any], str], Problems]] = {
    "section": _section,
    "actions": _actions,
    "context": _context,
    "input": _input,
    "header": _header,
    "image": _image,
    "divider": _nothing,
    "rich_text": _nothing,
    "file": _nothing,
    "video": _nothing,
    "markdown": _nothing,
}


def check_blocks(blocks: Any, surface: str) -> Problems:
    """Problems with a `blocks` array for a surface: message, modal or home."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    limit = MAX_BLOCKS[surface]
    problems = (
        [f"blocks: {len(blocks)}, at most {limit} in a {surface}"] if len(blocks) > limit else []
    )
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]"
        if not isinstance(block, dict) or block.get("type") not in SURFACE_BLOCKS[surface]:
            kind = block.get("type") if isinstance(block, dict) else block
            problems.append(f"{where}: block type {kind!r} is not allowed in a {surface}")
            continue
        # block_id: "Maximum length 255 characters ... should be unique for each message".
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or len(block_id) > 255:
                problems.append(f"{where}.block_id: at most 255 characters")
            elif block_id in seen:
                problems.append(f"{where}.block_id: {block_id!r} is used twice")
            seen.add(str(block_id))
        problems += _BLOCKS[block["type"]](block, where)
    return problems


def check_view(view: Any) -> Problems:
    """A modal or Home tab view (docs.slack.dev/reference/views): type, title at most 24
    (modal, required), submit and close at most 24, callback_id at most 255, private_metadata
    at most 3000, blocks within the surface's limits; a modal with inputs needs submit."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return ["view: type must be modal or home"]
    surface = str(view["type"])
    problems: Problems = []
    if surface == "modal":
        problems += _text(view.get("title"), "view.title", 24, plain=True)
        for key in ("submit", "close"):
            if key in view:
                problems += _text(view[key], f"view.{key}", 24, plain=True)
        blocks = view.get("blocks") or []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            problems.append("view.submit: required when the modal has input blocks")
    problems += _max_len(view, "callback_id", 255, "view")
    problems += _max_len(view, "private_metadata", 3000, "view")
    problems += _max_len(view, "external_id", 255, "view")
    if not isinstance(view.get("blocks"), list):
        problems.append("view.blocks: required")
    return problems + check_blocks(view.get("blocks"), surface)
