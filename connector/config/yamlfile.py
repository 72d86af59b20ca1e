"""Reading YAML while keeping line numbers, so every error can name its line.

PyYAML's ``safe_load`` forgets where each value came from and silently keeps the last
of two equal keys. Here duplicate keys are problems at their line, and a
:class:`YamlDocument` maps a key path such as ``customers[2].accounts.aws[0]`` back to
its line through PyYAML's node tree, whose nodes carry their marks.

A tenant file is written by people and read by a daemon serving other tenants too, so
nothing in it may crash or exhaust the reader: an unquoted date that names no day
(``2026-02-30``) is kept as its text for validation to refuse at its line, and nesting
deeper than :data:`MAX_DEPTH` or aliases expanding to more than :data:`MAX_ALIAS_NODES`
values (a "billion laughs" of a few hundred bytes) stop the reader at the offending
line, before anything is built from them.

Every file goes through libyaml first (PyYAML's C parser: the CLI reads every tenant
file on each command, and a month-end stage reads a distributor's 20,000 customers).
The plain data is built straight from libyaml's events in one flat loop, which also
measures them against the limits and finds duplicate keys; no node tree is made. The
tree used to be composed and kept for the lines of error messages, a node and two
marks per value: 600,000 of them for that distributor's 6.2 MB file, which took 12 s
to read, held 220 MB and peaked at 350 MB RSS; from the events it takes 1.3 s, holds
23 MB (the data and the text) and peaks at 87 MB RSS. A document keeps its text and
composes the tree on the first :meth:`YamlDocument.locate`, that is only when there
is a problem to report. Whatever the loop does not build itself (merge keys ``<<``,
a mapping or list as a key, an explicitly tagged collection such as ``!!set``, more
than one document, a limit, a syntax error) or a missing libyaml, is read again by
the bounded pure-Python loader, which composes the nodes first as before, so the data
and the problems reported, with their lines, are the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
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


_STR_TAG = "tag:yaml.org,2002:str"
#: Tags whose constructors build a plain scalar. Any other tag on a scalar (``!foo``,
#: the merge key ``<<``, ``=``) is left to the composer and constructor to report.
_SCALAR_TAGS = frozenset(
    {f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary")}
    | {_TIMESTAMP_TAG}
)
_NO_KEY = object()  # what a mapping holds while its next key is still to come


class _Open:
    """A mapping or sequence being read: its value, its measure, and where it sits."""

    __slots__ = (
        *("value", "is_map", "size", "tallest", "anchor", "part", "order"),
        *("key", "text", "first_line"),
    )

    def __init__(self, value: Any, anchor: str | None, part: str | int, order: int) -> None:
        self.value = value
        self.is_map = isinstance(value, dict)
        self.size, self.tallest = 1, 0  # values it expands to; height of its tallest child
        self.anchor = anchor
        self.part = part  # its key or index in the enclosing collection
        self.order = order  # its place among the mappings in document order
        self.key: Any = _NO_KEY  # the key whose value comes next...
        self.text = ""  # ...as written
        # (resolved tag, text) of each key so far -> its line; mappings only.
        self.first_line: dict[tuple[str, str], int] = {}


def _read_events(loader: Any, file: str) -> tuple[Any, list[ConfigIssue]] | None:
    """The data of the one document ``loader`` reads and its duplicate keys, or None
    for anything this loop leaves to the composer (see the module docstring).

    One flat loop over libyaml's events, with no node tree and nothing recursive.
    Scalars are resolved and constructed as PyYAML's composer and constructor do it;
    an alias is the very object its anchor stands for. Everything is measured as
    :class:`_Loader` measures nodes, so a file beyond :data:`MAX_DEPTH` or
    :data:`MAX_ALIAS_NODES` is None too, and duplicate keys are found by
    :func:`_duplicate_keys`'s rules and listed in its order.
    """
    constructors = loader.yaml_constructors
    resolve, get_event = loader.resolve, loader.get_event
    top = _Open([], None, 0, 0)  # the stream's own frame: its list gets the root
    stack = [top]
    anchors: dict[str, tuple[Any, int, int] | None] = {}  # None while its block is open
    alias_nodes = documents = mappings = 0
    found: list[tuple[int, ConfigIssue]] = []  # with its mapping's order
    # One str per distinct text: a tenant's keys and most of its values (currencies,
    # pricebooks, plans) repeat for every customer, and the models keep them.
    texts: dict[str, str] = {}
    while True:
        event = get_event()
        kind = type(event)
        depth = len(stack) - 1
        if kind is yaml.ScalarEvent:
            if depth >= MAX_DEPTH:
                return None
            text, tag = texts.setdefault(event.value, event.value), event.tag
            if tag is None or tag == "!":
                tag = resolve(yaml.ScalarNode, text, event.implicit)
            if tag == _STR_TAG:
                value = text
            elif tag in _SCALAR_TAGS:
                value = constructors[tag](loader, yaml.ScalarNode(tag, text))
            else:
                return None
            size = height = 1
            if event.anchor is not None:
                if event.anchor in anchors:
                    return None  # the composer refuses an anchor defined twice
                anchors[event.anchor] = (value, size, height)
            if top.is_map and top.key is _NO_KEY:
                line = event.start_mark.line + 1
                first = top.first_line.get((tag, text))
                if first is None:
                    top.first_line[tag, text] = line
                else:
                    loc = (*(frame.part for frame in stack[2:]), text)
                    found.append((top.order, _duplicate(file, line, loc, first)))
                top.key, top.text = value, text
                top.size += 1
                top.tallest = top.tallest or 1
                continue
        elif kind is yaml.AliasEvent:
            measured = anchors.get(event.anchor)
            if measured is None or (top.is_map and top.key is _NO_KEY):
                return None  # undefined, inside its own block, or a key
            value, size, height = measured
            alias_nodes += size
            if depth + height > MAX_DEPTH or alias_nodes > MAX_ALIAS_NODES:
                return None
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if depth >= MAX_DEPTH or (event.tag is not None and event.tag != "!"):
                return None
            if top.is_map and top.key is _NO_KEY:
                return None  # a mapping or a list as a key
            value = {} if kind is yaml.MappingStartEvent else []
            if top.is_map:
                top.value[top.key] = value
                part: str | int = top.text
                top.key = _NO_KEY
            else:
                top.value.append(value)
                part = len(top.value) - 1
            if event.anchor is not None:
                if event.anchor in anchors:
                    return None
                anchors[event.anchor] = None
            mappings += kind is yaml.MappingStartEvent
            top = _Open(value, event.anchor, part, mappings)
            stack.append(top)
            continue
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            done = stack.pop()
            top = stack[-1]
            size, height = done.size, 1 + done.tallest
            if done.anchor is not None:
                anchors[done.anchor] = (done.value, size, height)
            top.size += size
            if height > top.tallest:
                top.tallest = height
            continue
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                return None
            continue
        elif kind is yaml.StreamEndEvent:
            break
        else:  # the stream's start, a document's end
            continue
        # A scalar value or an alias: into its mapping or list.
        if top.is_map:
            top.value[top.key] = value
            top.key = _NO_KEY
        else:
            top.value.append(value)
        top.size += size
        if height > top.tallest:
            top.tallest = height
    found.sort(key=lambda pair: pair[0])  # stable: a mapping's keys stay in order
    root = stack[0].value
    return (root[0] if root else None), [issue for _, issue in found]


# What PyYAML's constructors raise for a value they cannot make, besides YAMLError.
_CONSTRUCTION_ERRORS = (ValueError, TypeError, OverflowError, RecursionError, KeyError,
                        AttributeError)  # fmt: skip


def _parse_fast(text: str, file: str) -> tuple[YamlDocument, list[ConfigIssue]] | None:
    """:func:`parse_yaml` by libyaml's events, or None to read ``text`` the slow way."""
    if _CSafeLoader is None:
        return None
    loader = _FastLoader(text)
    try:
        read = _read_events(loader, file)
    except (yaml.YAMLError, *_CONSTRUCTION_ERRORS):
        return None  # the pure-Python loader names the line and the problem
    finally:
        loader.dispose()
    if read is None:
        return None
    data, issues = read
    return YamlDocument(file, data, text, by_libyaml=True), issues


def _load(text: str, file: str) -> tuple[YamlDocument, list[ConfigIssue]]:
    """The one document the pure-Python loader reads in ``text``, and its duplicate keys."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        issues = _duplicate_keys(file, root) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return YamlDocument(file, data, text, by_libyaml=False), issues


def _compose(text: str, by_libyaml: bool) -> yaml.Node | None:
    """The node tree of ``text`` as the loader that read it left it."""
    loader = _FastLoader(text) if by_libyaml else _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None and not by_libyaml:
            # Constructing moves the pairs of merge keys (`<<`) into the nodes that
            # merge them, where locate() found them; libyaml reads no merge keys.
            loader.construct_document(root)
        return root
    finally:
        loader.dispose()


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
    """A parsed YAML file: its plain data, and its text to find the lines of keys in.

    The node tree that maps keys to lines is composed again on the first
    :meth:`locate` (only a file with a problem to report needs one) and then kept.
    """

    file: str
    data: Any
    text: str = field(repr=False)
    #: Read by libyaml (within the limits, so libyaml may compose it), or by :class:`_Loader`.
    by_libyaml: bool = field(default=False, repr=False)
    _root: yaml.Node | None = field(default=None, init=False, repr=False, compare=False)
    _composed: bool = field(default=False, init=False, repr=False, compare=False)

    @property
    def root(self) -> yaml.Node | None:
        """The node tree the data came from."""
        if not self._composed:
            self._root = _compose(self.text, self.by_libyaml)
            self._composed = True
        return self._root

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
                issues.append(_duplicate(file, line, (*loc, key_node.value), first_line[ident]))
            else:
                first_line[ident] = line
    return issues


def _duplicate(file: str, line: int, loc: Loc, first: int) -> ConfigIssue:
    return ConfigIssue(
        file,
        line,
        dotted(loc),
        f"duplicate key (first on line {first}); YAML would silently keep only the last "
        "one, so remove or rename one of them",
    )


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
    try:
        return _load(text, file)
    except yaml.YAMLError as exc:
        return None, [_syntax_issue(file, exc)]
    except (KeyError, AttributeError) as exc:
        # PyYAML's constructors of `!!bool maybe` and `!!timestamp soon`.
        return None, [
            ConfigIssue(
                file,
                None,
                "",
                f"cannot read the YAML: a value does not fit its explicit tag ({exc}); "
                "remove the tag (e.g. !!bool, !!timestamp) or write a value of that type",
            )
        ]
    except _CONSTRUCTION_ERRORS as exc:
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
