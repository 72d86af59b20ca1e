"""Reading YAML while keeping line numbers, so every error can name its line.

PyYAML's ``safe_load`` forgets where each value came from and silently keeps the last
of two equal keys. Here the document is composed into nodes first (which carry their
marks), checked for duplicate keys, and only then constructed into plain data; the
nodes stay around to map a key path such as ``customers[2].accounts.aws[0]`` back to
its line.

A tenant file is written by people and read by a daemon serving other tenants too, so
nothing in it may crash or exhaust the reader: an unquoted date that names no day
(``2026-02-30``) is kept as its text for validation to refuse at its line, and nesting
deeper than :data:`MAX_DEPTH` or aliases expanding to more than :data:`MAX_ALIAS_NODES`
values (a "billion laughs" of a few hundred bytes) stop the composer at the offending
line, before anything is built from the nodes.

Every file goes through libyaml first (PyYAML's C parser, several times faster: the
CLI reads every tenant file on each command): its events are measured against the
same limits in one flat loop, and only a file within them is composed. Anything else,
a syntax error, a limit or a missing libyaml, is read again by the pure-Python loader,
whose messages name the line, so the problems reported are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connector.config.errors import ConfigIssue

Loc = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

#: Deepest nesting of mappings and lists, aliases expanded. A tenant file needs about
#: eight levels; far deeper is a mistake or an attack (PyYAML composes recursively).
MAX_DEPTH = 50
#: Values that all the aliases of one file may stand for, nested aliases expanded: room
#: for a shared block in every one of thousands of customers, not for an exponential
#: alias chain that would take the validation to gigabytes.
MAX_ALIAS_NODES = 50_000


class InvalidDate(str):
    """The text of an unquoted YAML date that names no calendar day, e.g. ``2026-02-30``.

    PyYAML raises a bare ``ValueError`` for it, with no file or line; kept as text, it
    reaches the model, which refuses it at its key and line together with every other
    problem of the file (and a free-form setting keeps the text as written).
    """

    reason: str

    def __new__(cls, text: str, reason: str) -> InvalidDate:
        value = super().__new__(cls, text)
        value.reason = reason
        return value


class LimitExceeded(yaml.MarkedYAMLError):
    """Nesting or alias expansion beyond what a tenant file may use (not a syntax error)."""


def _too_deep() -> str:
    return (
        f"nested more than {MAX_DEPTH} levels deep; a tenant file needs far fewer, so look "
        "for an unclosed [ or { or a runaway indentation"
    )


class _Loader(yaml.SafeLoader):
    """Safe loading only: tenant files never construct arbitrary Python objects.

    Composition is bounded (see :data:`MAX_DEPTH` and :data:`MAX_ALIAS_NODES`): every
    node's size and height with aliases expanded is computed as it is composed, so an
    alias is measured once, in constant time, when it is met.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._alias_nodes = 0
        # id(node) -> (values it expands to, levels it spans), for composed nodes.
        self._measure: dict[int, tuple[int, int]] = {}

    def fetch_flow_collection_start(self, token_class: type[yaml.Token]) -> None:
        # The scanner looks ahead through every open [ or { for a possible key, in time
        # quadratic in their number: stop before the composer would see the depth.
        if self.flow_level >= MAX_DEPTH:
            raise LimitExceeded(None, None, _too_deep(), self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            self._check_alias(event, node)
            return node
        event = self.peek_event()
        if self._depth >= MAX_DEPTH:
            raise LimitExceeded(None, None, _too_deep(), event.start_mark)
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        measured = [self._measure[id(child)] for child in children]
        self._measure[id(node)] = (
            1 + sum(size for size, _ in measured),
            1 + max((height for _, height in measured), default=0),
        )
        return node

    def _check_alias(self, event: yaml.AliasEvent, node: yaml.Node) -> None:
        measured = self._measure.get(id(node))
        if measured is None:  # its anchor is still open: the alias is inside its own block
            raise LimitExceeded(
                None,
                None,
                f"alias *{event.anchor} is inside the block it refers to, which would make "
                "the block contain itself forever; refer to it after the block ends",
                event.start_mark,
            )
        size, height = measured
        if self._depth + height > MAX_DEPTH:
            raise LimitExceeded(
                None,
                None,
                f"alias *{event.anchor} here nests values more than {MAX_DEPTH} levels deep",
                event.start_mark,
            )
        self._alias_nodes += size
        if self._alias_nodes > MAX_ALIAS_NODES:
            raise LimitExceeded(
                None,
                None,
                f"alias *{event.anchor} stands for {size:,} values, and the aliases up to "
                f"here for {self._alias_nodes:,}; a tenant file's aliases may stand for at "
                f"most {MAX_ALIAS_NODES:,} in all: write the values out, or alias smaller "
                "blocks",
                event.start_mark,
            )

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        """A date or time as SafeLoader builds it; a day that does not exist stays text."""
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(self, node)
        except (ValueError, OverflowError) as exc:
            return InvalidDate(str(node.value), str(exc))


_Loader.add_constructor(_TIMESTAMP_TAG, _Loader.construct_yaml_timestamp)

_CSafeLoader = getattr(yaml, "CSafeLoader", None)  # None when built without libyaml


if _CSafeLoader is not None:

    class _FastLoader(_CSafeLoader):  # type: ignore[misc, valid-type]
        """libyaml's safe loader, constructing dates as :class:`_Loader` does."""

        construct_yaml_timestamp = _Loader.construct_yaml_timestamp

    _FastLoader.add_constructor(_TIMESTAMP_TAG, _FastLoader.construct_yaml_timestamp)


def _within_limits(text: str) -> bool:
    """Whether ``text``'s events stay within :data:`MAX_DEPTH` and
    :data:`MAX_ALIAS_NODES`, measured as :class:`_Loader` measures them while composing
    but in a flat loop over libyaml's events, so nothing recursive runs on a file
    beyond the limits. False also for an alias it cannot measure (undefined, or inside
    its own block): the pure-Python loader then says what is wrong.
    """
    loader = _FastLoader(text)
    try:
        # Open collections: [values they expand to, height of their tallest child].
        stack: list[list[int]] = [[0, 0]]  # the document's own frame
        anchors: list[str | None] = [None]
        measured: dict[str, tuple[int, int] | None] = {}
        alias_nodes = 0
        while loader.check_event():
            event = loader.get_event()
            depth = len(stack) - 1
            if isinstance(event, yaml.CollectionStartEvent):
                if depth >= MAX_DEPTH:
                    return False
                stack.append([1, 0])
                anchors.append(event.anchor)
                if event.anchor is not None:
                    measured[event.anchor] = None  # open: an alias to it is a loop
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                size, tallest = stack.pop()
                height, anchor = 1 + tallest, anchors.pop()
                if anchor is not None:
                    measured[anchor] = (size, height)
            elif isinstance(event, yaml.ScalarEvent):
                if depth >= MAX_DEPTH:
                    return False
                size, height = 1, 1
                if event.anchor is not None:
                    measured[event.anchor] = (size, height)
            elif isinstance(event, yaml.AliasEvent):
                found = measured.get(event.anchor)
                if found is None:
                    return False
                size, height = found
                alias_nodes += size
                if depth + height > MAX_DEPTH or alias_nodes > MAX_ALIAS_NODES:
                    return False
            else:  # stream and document start and end
                continue
            stack[-1][0] += size
            stack[-1][1] = max(stack[-1][1], height)
        return True
    finally:
        loader.dispose()


def _parse_fast(text: str, file: str) -> tuple[YamlDocument | None, list[ConfigIssue]] | None:
    """:func:`parse_yaml` by libyaml, or None to read ``text`` the slow way."""
    if _CSafeLoader is None:
        return None
    try:
        if not _within_limits(text):
            return None
        return _load(_FastLoader(text), file)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        return None  # the pure-Python loader names the line and the problem


def _load(loader: Any, file: str) -> tuple[YamlDocument, list[ConfigIssue]]:
    """The one document ``loader`` reads and its duplicate keys; the loader is disposed of."""
    try:
        root = loader.get_single_node()
        issues = _duplicate_keys(file, root) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return YamlDocument(file, data, root), issues


def dotted(loc: Loc) -> str:
    """``("customers", 2, "accounts", "aws", 0)`` -> ``customers[2].accounts.aws[0]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(slots=True)
class YamlDocument:
    """A parsed YAML file: its plain data and the node tree the data came from."""

    file: str
    data: Any
    root: yaml.Node | None

    def locate(self, loc: Loc) -> tuple[int | None, str]:
        """The line of the key at ``loc`` and the dotted key to show.

        A key that is not in the file (a missing required key) gets the line of the
        nearest enclosing key that is. Path parts below a scalar are pydantic's union
        member names, not keys, and are dropped.
        """
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        shown: list[str | int] = []
        parts = [p for p in loc if p != "[key]"]  # pydantic's marker for a dict key
        for index, part in enumerate(parts):
            if node is None or isinstance(node, yaml.ScalarNode):
                break
            found = _child(node, part)
            if found is None:
                shown.extend(parts[index:])
                break
            node, line = found
            shown.append(part)
        return line, dotted(tuple(shown))

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        """A :class:`ConfigIssue` for the key at ``loc``."""
        line, key = self.locate(loc)
        return ConfigIssue(self.file, line, key, message)


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, int] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                return value_node, key_node.start_mark.line + 1
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and (0 <= part < len(node.value))
    ):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None


def _walk(node: yaml.Node, loc: Loc, seen: set[int]) -> Iterator[tuple[yaml.Node, Loc]]:
    """Every node with its key path; an aliased node is visited once."""
    if id(node) in seen:
        return
    seen.add(id(node))
    yield node, loc
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                yield from _walk(value_node, (*loc, key_node.value), seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*loc, i), seen)


def _duplicate_keys(file: str, root: yaml.Node) -> list[ConfigIssue]:
    issues = []
    for node, loc in _walk(root, (), set()):
        if not isinstance(node, yaml.MappingNode):
            continue
        first_line: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            # The resolved tag keeps `1001:` and `"1001":` apart, as Python dicts do.
            ident = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if ident in first_line:
                issues.append(
                    ConfigIssue(
                        file,
                        line,
                        dotted((*loc, key_node.value)),
                        f"duplicate key (first on line {first_line[ident]}); YAML would "
                        "silently keep only the last one, so remove or rename one of them",
                    )
                )
            else:
                first_line[ident] = line
    return issues


def _syntax_issue(file: str, exc: yaml.YAMLError) -> ConfigIssue:
    if isinstance(exc, LimitExceeded):
        mark = exc.problem_mark
        return ConfigIssue(file, mark.line + 1 if mark else None, "", str(exc.problem))
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        text = exc.problem or "invalid YAML"
        if exc.context:
            text = f"{text} ({exc.context}"
            if exc.context_mark is not None and exc.context_mark is not mark:
                text += f" on line {exc.context_mark.line + 1}"
            text += ")"
        return ConfigIssue(file, mark.line + 1 if mark else None, "", f"YAML syntax error: {text}")
    return ConfigIssue(file, None, "", f"YAML syntax error: {exc}")


def parse_yaml(text: str, file: str) -> tuple[YamlDocument | None, list[ConfigIssue]]:
    """Parse ``text``; return the document (``None`` if unreadable) and its problems.

    Duplicate keys are problems but do not stop parsing, so the rest of the file is
    still checked.
    """
    fast = _parse_fast(text, file)
    if fast is not None:
        return fast
    loader = _Loader(text)
    try:
        return _load(loader, file)
    except yaml.YAMLError as exc:
        return None, [_syntax_issue(file, exc)]
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # Whatever else PyYAML's constructors raise: still this file's problem, never
        # a crash of a command that serves other tenants too.
        return None, [ConfigIssue(file, None, "", f"cannot read the YAML: {exc}")]


def read_yaml(path: Path) -> tuple[YamlDocument | None, list[ConfigIssue]]:
    """:func:`parse_yaml` on a file, with unreadable files reported as issues."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ConfigIssue(str(path), None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigIssue(str(path), None, "", f"cannot read the file: {exc}")]
    return parse_yaml(text, str(path))
