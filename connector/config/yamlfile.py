"""Reading YAML while keeping line numbers, so every error can name its line.

PyYAML's ``safe_load`` forgets where each value came from and silently keeps the last
of two equal keys. Here the document is composed into nodes first (which carry their
marks), checked for duplicate keys, and only then constructed into plain data; the
nodes stay around to map a key path such as ``customers[2].accounts.aws[0]`` back to
its line.
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


class _Loader(yaml.SafeLoader):
    """Safe loading only: tenant files never construct arbitrary Python objects."""


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
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        issues = _duplicate_keys(file, root) if root is not None else []
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        return None, [_syntax_issue(file, exc)]
    finally:
        loader.dispose()
    return YamlDocument(file, data, root), issues


def read_yaml(path: Path) -> tuple[YamlDocument | None, list[ConfigIssue]]:
    """:func:`parse_yaml` on a file, with unreadable files reported as issues."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ConfigIssue(str(path), None, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigIssue(str(path), None, "", f"cannot read the file: {exc}")]
    return parse_yaml(text, str(path))
