"""Secret references in plugin settings: ``{env: NAME}`` or ``{file: PATH}``.

A tenant file never holds a secret; a plugin's settings name where it is. The core
replaces each reference with its value when it makes the plugin, so plugins receive
plain strings and never handle the tenant file's secret syntax themselves. When a
plugin's settings model checks the file (``check-config``), references stand in as a
placeholder, so a variable set only on the daemon's host does not fail the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from connector.config.tenant import SecretRef

PLACEHOLDER = "<secret>"


def is_reference(value: Any) -> bool:
    """Whether ``value`` is ``{env: NAME}`` or ``{file: PATH}`` and nothing else."""
    return (
        isinstance(value, Mapping)
        and len(value) == 1
        and next(iter(value)) in ("env", "file")
        and isinstance(next(iter(value.values())), str)
    )


def _walk(value: Any, replace: Any) -> Any:
    if is_reference(value):
        return replace(value)
    if isinstance(value, Mapping):
        return {key: _walk(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, replace) for item in value]
    return value


def resolve_references(settings: Mapping[str, Any], base_dir: Path) -> dict[str, Any]:
    """``settings`` with every reference replaced by the secret's value.

    :raises LookupError: a variable is unset or a file unreadable (named, no value shown).
    """
    return _walk(settings, lambda ref: SecretRef.model_validate(dict(ref)).resolve(base_dir))


def masked_references(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every reference replaced by :data:`PLACEHOLDER`."""
    return _walk(settings, lambda ref: PLACEHOLDER)
