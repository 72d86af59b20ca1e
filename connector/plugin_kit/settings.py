"""A plugin's settings: checked in its model, validated again by ``__init__``, folders resolved.

The core validates a plugin's ``settings:`` with its ``settings_model`` when it checks
the tenant file; the plugin's ``__init__`` receives the same mapping and validates it
again itself (:func:`validated`). Relative folders in the settings are relative to the
tenant file's folder (:func:`folder_of`). A provider reading a folder of exports gets
both from :class:`FolderProvider`, and its model's ``path`` and ``pattern`` checks from
:func:`folder_setting` and :func:`glob_setting`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any, ClassVar, TypeVar

from pydantic import AfterValidator, BaseModel, ValidationError

from connector.contracts import PluginError

Model = TypeVar("Model", bound=BaseModel)


def validated(model: type[Model], settings: Mapping[str, Any], what: str) -> Model:
    """``settings`` validated by ``model``; :class:`PluginError` ``"<what> settings are
    invalid: <pydantic's message>"`` otherwise (``what``: e.g. ``"focus provider"``)."""
    try:
        return model.model_validate(dict(settings))
    except ValidationError as exc:
        raise PluginError(f"{what} settings are invalid: {exc}") from None


def folder_of(path: str, base_dir: Path) -> Path:
    """The folder a setting names: ``~`` expanded, relative to ``base_dir`` unless absolute."""
    folder = Path(path).expanduser()
    return folder if folder.is_absolute() else Path(base_dir) / folder


class FolderProvider:
    """The ``__init__`` of a provider that reads the folder its settings' ``path`` names.

    ``settings`` are validated by the class's ``settings_model`` (:class:`PluginError`
    ``"<name> provider settings are invalid: ..."``) and kept as :attr:`settings`;
    :attr:`folder` is ``path``, relative to ``base_dir`` (the tenant file's folder).
    """

    name: ClassVar[str]
    settings_model: ClassVar[type | None]

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        assert self.settings_model is not None, f"{self.name}: a folder provider has settings"
        self.settings: Any = validated(self.settings_model, settings, f"{self.name} provider")
        self.folder = folder_of(self.settings.path, base_dir)


def folder_setting(what: str, example: str) -> AfterValidator:
    """The check of a settings model's folder field, for ``Annotated[str, ...]``: not
    empty ("must name the folder <what> are in, e.g. <example>")."""

    def check(value: str) -> str:
        if not value.strip():
            raise ValueError(f"must name the folder {what} are in, e.g. {example}")
        return value

    return AfterValidator(check)


def glob_setting(example: str) -> AfterValidator:
    """The check of a settings model's ``pattern`` field, for ``Annotated[str, ...]``: a
    relative glob (pathlib's glob refuses absolute ones; say so when the config is
    checked, not at the first read)."""

    def check(value: str) -> str:
        if not value or PurePath(value).is_absolute():
            raise ValueError(f"must be a relative glob below path, e.g. {example}")
        return value

    return AfterValidator(check)
