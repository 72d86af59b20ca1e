"""Secret references in plugin settings: ``{secret_env: NAME}`` or ``{secret_file: PATH}``.

A tenant file never holds a secret; a plugin's settings name where it is. The core
replaces each reference with its value when it makes the plugin, so plugins receive
plain strings and never handle the tenant file's secret syntax themselves. When a
plugin's settings model checks the file (``check-config``), references stand in as a
placeholder, so a variable set only on the daemon's host does not fail the check.

References used to be spelt ``{env: NAME}`` and ``{file: PATH}``, which a provider's own
setting can be (``source: {file: usage.csv}``): it was read as a secret and replaced by
the file's content. The ``secret_`` keys cannot be mistaken, so the old spelling is now
plain data, handed to the plugin untouched. Where it was surely meant as a secret (under
a key named like one, or where the plugin's settings model wants text) the loader
reports it with the new spelling (:func:`old_references`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from connector.config.tenant import SecretRef
from connector.config.yamlfile import Loc

PLACEHOLDER = "<secret>"
#: A reference's key in the tenant file -> the :class:`SecretRef` field it fills.
REFERENCE_KEYS = {"secret_env": "env", "secret_file": "file"}
#: The keys references had before, -> the key that replaced each.
OLD_KEYS = {"env": "secret_env", "file": "secret_file"}


def _single(value: Any, keys: Mapping[str, str]) -> tuple[str, str] | None:
    """``(key, text)`` when ``value`` is a mapping of one of ``keys`` to text, else None."""
    if isinstance(value, Mapping) and len(value) == 1:
        key, item = next(iter(value.items()))
        if key in keys and isinstance(item, str):
            return key, item
    return None


def is_reference(value: Any) -> bool:
    """Whether ``value`` is ``{secret_env: NAME}`` or ``{secret_file: PATH}`` and nothing else."""
    return _single(value, REFERENCE_KEYS) is not None


def resolve_reference(value: Mapping[str, str], base_dir: Path) -> str:
    """The secret a reference names (see :meth:`SecretRef.resolve`).

    :raises LookupError: the variable is unset or the file unreadable (named, no value shown).
    """
    found = _single(value, REFERENCE_KEYS)
    assert found is not None, "resolve_reference takes a reference (is_reference)"
    key, text = found
    return SecretRef.model_validate({REFERENCE_KEYS[key]: text}).resolve(base_dir)


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
    return _walk(settings, lambda ref: resolve_reference(ref, base_dir))


def masked_references(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` with every reference replaced by :data:`PLACEHOLDER`."""
    return _walk(settings, lambda ref: PLACEHOLDER)


def old_references(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """``(loc, message)`` for every mapping in ``value`` spelt as a reference used to be
    (``{env: NAME}``, ``{file: PATH}``); the message gives the new spelling."""
    found = _single(value, OLD_KEYS)
    if found is not None:
        key, text = found
        new = f"{{{OLD_KEYS[key]}: {text}}}"
        message = (
            f"{{{key}: {text}}} is no longer a secret reference: write {new} (the old "
            "spelling is passed to the plugin as a plain mapping)"
        )
        yield loc, message
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from old_references(item, (*loc, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from old_references(item, (*loc, index))
