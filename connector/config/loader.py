"""Loading tenant files, with every problem in every file reported at once.

A problem is reported as ``file:line: key: message``: YAML syntax, duplicate keys,
every validation error of the tenant models, broken cross-references (duplicate ids,
an account mapped to two customers, unknown pricebooks, providers and tax rates) and
the provider and ERP plugins' own settings.

Each file is loaded on its own (:func:`load_tenant_files`): a command or a daemon
serving one tenant works whatever state another tenant's file is in, while
``check-config`` (:func:`load_tenants`) refuses the directory if any file has a
problem. A few problems stop one customer's statements rather than the whole tenant
(:func:`~connector.config.checks.billing_problems`, such as accounts with no pricebook
for their provider): the build reports that customer and builds the others, and only
``check-config`` refuses them, so they are fixed before the build finds them.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from connector.config.checks import billing_problems, cross_reference_problems
from connector.config.errors import ConfigError, ConfigIssue
from connector.config.rates import load_rates
from connector.config.references import masked_references, old_references
from connector.config.tenant import CROSS_REFERENCE_ERROR, INLINE_SECRET_MESSAGE, TenantConfig
from connector.config.yamlfile import InvalidDate, Loc, YamlDocument, read_yaml

#: ``(kind, plugin_name) -> settings model or None``; kind is "provider" or "sink".
PluginSettingsLookup = Callable[[Literal["provider", "sink"], str], type[BaseModel] | None]

TENANT_SCHEMA_ID = "urn:billing-connector:schema:tenant:1"

# Settings keys whose plain-text value is almost certainly a secret pasted inline.
_SECRET_KEY = re.compile(r"(^|_)(secret|password|passwd|token|api_?key|private_key)$", re.I)

_EXPECTED = {
    "decimal_type": 'expected a number like 15 or "0.0825"',
    "decimal_parsing": 'expected a number like 15 or "0.0825"',
    "finite_number": 'expected a finite number like 15 or "0.0825"',
    "int_type": "expected a whole number like 30",
    "int_parsing": "expected a whole number like 30",
    "int_from_float": "expected a whole number like 30",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list, one '- item' per line",
    "dict_type": "expected a mapping of keys to values",
    "date_type": "expected a date like 2026-01-01",
    "date_parsing": "expected a date like 2026-01-01",
    "date_from_datetime_parsing": "expected a date like 2026-01-01",
    "date_from_datetime_inexact": "expected a date like 2026-01-01, without a time",
}
_BOUNDS = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` to reach the type that holds keys."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(tp) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            tp = models[0] if models else members[0]
        else:
            return tp


def _model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model class that validates the value at ``loc`` under ``model``, if any."""
    tp: Any = model
    for part in loc:
        tp = _unwrap(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = tp.model_fields.get(str(part))
            if field is None:
                return None
            tp = field.annotation
        elif get_origin(tp) in (list, tuple, set, frozenset) and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _description_at(model: type[BaseModel], loc: Loc) -> str | None:
    """The description of the field at ``loc`` under ``model``, if it has one."""
    owner = _model_at(model, loc[:-1])
    field = owner.model_fields.get(str(loc[-1])) if owner is not None and loc else None
    return field.description if field is not None else None


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def _describe(value: Any) -> str:
    if value is None:
        return "the value is empty"
    if isinstance(value, Mapping):
        return "got a mapping"
    if isinstance(value, list):
        return "got a list"
    if isinstance(value, dt.date):  # as written in the file, not datetime.datetime(...)
        return f"got {value.isoformat(sep=' ') if isinstance(value, dt.datetime) else value}"
    text = repr(value)
    return f"got {text[:60]}{'...' if len(text) > 60 else ''}"


def describe_error(error: Mapping[str, Any], model: type[BaseModel]) -> str:
    """Say what is wrong with one pydantic error and what would be valid."""
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        if owner is None:
            return "unknown key"
        valid = _keys_of(owner)
        close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown key{hint}; valid keys here: {', '.join(valid)}"
    if kind in ("model_type", "model_attributes_type"):
        owner = _model_at(model, loc)
        keys = f" with the keys {', '.join(_keys_of(owner))}" if owner else ""
        return f"expected a mapping{keys}; {_describe(value)}"
    if isinstance(value, InvalidDate):
        return f"{value} is not a calendar date ({value.reason}); expected a date like 2026-01-01"
    if kind in _EXPECTED:
        text = _EXPECTED[kind]
        if kind == "string_type" and isinstance(value, bool):
            return (
                f"{text}; YAML reads yes/no/on/off/true/false as true or false, "
                f"so put the text in quotes"
            )
        return f"{text}; {_describe(value)}"
    if kind in ("literal_error", "enum"):
        return f"expected one of {ctx.get('expected', '')}; {_describe(value)}"
    if kind.startswith(("greater_than", "less_than")):
        bound = next((f"{_BOUNDS[b]} {ctx[b]}" for b in _BOUNDS if b in ctx), "in range")
        return f"must be {bound}; {_describe(value)}"
    if kind == "too_short":
        return f"needs at least {ctx.get('min_length', 1)} item(s)"
    if kind == "string_pattern_mismatch":
        # The field's description says what is valid ("such as en_GB or de_DE"); a
        # regular expression says it only to those who read them.
        wanted = _description_at(model, loc) or "a value of the form the tenant schema gives"
        return f"{_describe(value)}, which is not valid here; expected {wanted}"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def issues_from_validation_error(
    exc: ValidationError,
    doc: YamlDocument,
    model: type[BaseModel],
    prefix: Loc = (),
    skip_types: Iterable[str] = (),
) -> list[ConfigIssue]:
    """One :class:`ConfigIssue` per error, at the line of the key the error names.

    :param model: the model that raised, to list the valid keys of an unknown one.
    :param prefix: where the validated value sits in ``doc`` (for plugin settings).
    :param skip_types: error types reported elsewhere with better lines.
    """
    skip = set(skip_types)
    return [
        doc.issue((*prefix, *error["loc"]), describe_error(error, model))
        for error in exc.errors(include_url=False)
        if error["type"] not in skip
    ]


def _inline_secrets(settings: Mapping[Any, Any], loc: Loc) -> list[Loc]:
    """Keys in plugin settings named like secrets whose value is plain text."""
    found: list[Loc] = []
    for key, value in settings.items():
        if isinstance(value, str) and _SECRET_KEY.search(str(key)):
            found.append((*loc, str(key)))
        elif isinstance(value, Mapping):
            found.extend(_inline_secrets(value, (*loc, str(key))))
    return found


def _plugin_targets(data: Mapping[str, Any]) -> list[tuple[str, str, Loc, Loc]]:
    """``(kind, plugin name, settings loc, loc to blame for the name)`` per plugin."""
    targets = []
    providers = data.get("providers")
    if isinstance(providers, Mapping):
        for key, cfg in providers.items():
            cfg = cfg if isinstance(cfg, Mapping) else {}
            plugin = cfg.get("plugin")
            if isinstance(plugin, str):
                targets.append(
                    (
                        "provider",
                        plugin,
                        ("providers", key, "settings"),
                        ("providers", key, "plugin"),
                    )
                )
            elif plugin is None:
                targets.append(
                    ("provider", str(key), ("providers", key, "settings"), ("providers", key))
                )
    erp = data.get("erp")
    if isinstance(erp, Mapping) and isinstance(erp.get("sink"), str):
        targets.append(("sink", erp["sink"], ("erp", "settings"), ("erp", "sink")))
    return targets


def _plugin_settings_issues(
    data: Mapping[str, Any],
    doc: YamlDocument,
    lookup: PluginSettingsLookup | None,
    base_dir: Path,
) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for kind, name, settings_loc, name_loc in _plugin_targets(data):
        settings: Any = data
        for part in settings_loc:
            settings = settings.get(part, {}) if isinstance(settings, Mapping) else None
        if not isinstance(settings, Mapping):
            continue  # the tenant model reports the wrong type
        model = None
        if lookup is not None:
            try:
                model = lookup(kind, name)  # type: ignore[arg-type]
            except Exception as exc:  # an unknown plugin is a config problem, not a crash
                issues.append(doc.issue(name_loc, str(exc)))
                continue
        # Keys named like secrets must hold a reference, whatever the plugin's model says.
        issues.extend(
            doc.issue(loc, INLINE_SECRET_MESSAGE) for loc in _inline_secrets(settings, settings_loc)
        )
        model_issues = []
        if model is not None:
            try:
                # The plugin gets resolved secrets as plain strings; so does its model here.
                model.model_validate(masked_references(settings), context={"base_dir": base_dir})
            except ValidationError as exc:
                model_issues = issues_from_validation_error(exc, doc, model, settings_loc)
        issues.extend(_with_old_references(doc, settings, settings_loc, model_issues))
    return issues


def _with_old_references(
    doc: YamlDocument, settings: Mapping[str, Any], loc: Loc, model_issues: list[ConfigIssue]
) -> list[ConfigIssue]:
    """``model_issues``, where a secret reference spelt the old way (``{env: NAME}``) is
    refused in the new spelling instead: under a key named like a secret, or where the
    plugin's model refused it. Elsewhere it is a setting like any other."""
    issues = list(model_issues)
    for old_loc, message in old_references(settings, loc):
        old = doc.issue(old_loc, message)
        below = [i for i in issues if i.key == old.key or i.key.startswith(old.key + ".")]
        if below or _SECRET_KEY.search(str(old_loc[-1])):
            issues = [i for i in issues if i not in below] + [old]
    return issues


def _load(
    path: Path, lookup: PluginSettingsLookup | None, complete: bool = False
) -> tuple[TenantConfig | None, YamlDocument | None, list[ConfigIssue]]:
    """The tenant in ``path`` (``None`` when it has a problem), its document, its problems.

    :param complete: also report what stops single customers' statements only.
    """
    doc, issues = read_yaml(path)
    if doc is None:
        return None, None, issues
    data = doc.data
    if not isinstance(data, Mapping):
        what = "empty" if data is None else "not a mapping of keys"
        issues.append(
            ConfigIssue(
                doc.file,
                1,
                "",
                f"the file is {what}; a tenant file needs "
                "at least tenant:, profile:, providers: and erp:",
            )
        )
        return None, doc, issues
    base_dir = path.parent.resolve()
    problems = cross_reference_problems(data)
    tenant = None
    try:
        tenant = TenantConfig.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        # Cross-references are reported below from the raw data, each at its own line.
        skip = [CROSS_REFERENCE_ERROR] if problems else []
        issues.extend(issues_from_validation_error(exc, doc, TenantConfig, skip_types=skip))
    issues.extend(doc.issue(loc, message) for loc, message in problems)
    if complete:
        issues.extend(doc.issue(loc, message) for loc, message in billing_problems(data))
    issues.extend(_plugin_settings_issues(data, doc, lookup, base_dir))
    if tenant is not None and (rates := tenant.exchange_rates_path) is not None:
        try:
            load_rates(rates)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return (None if issues else tenant), doc, issues


def load_tenant(
    path: str | Path,
    plugin_settings_model: PluginSettingsLookup | None = None,
    *,
    complete: bool = False,
) -> TenantConfig:
    """Read and validate one tenant file.

    :param plugin_settings_model: ``(kind, plugin_name) -> model | None`` with kind
        ``"provider"`` or ``"sink"``; when given, each provider's and the ERP sink's
        ``settings`` are validated with the returned model (an exception it raises,
        such as an unknown plugin, is reported as a problem of the plugin's name).
    :param complete: also refuse what stops single customers' statements only, as
        ``check-config`` does.
    :raises ConfigError: listing every problem in the file.
    """
    tenant, _, issues = _load(Path(path), plugin_settings_model, complete)
    if issues or tenant is None:
        raise ConfigError(issues)
    return tenant


@dataclass(frozen=True, slots=True)
class SkippedTenantFile:
    """A tenant file left out for its problems; the others are served without it.

    :param tenant: the slug the file names under ``tenant:``, when it names one.
    """

    path: Path
    tenant: str | None
    issues: list[ConfigIssue]

    def claims(self, name: str) -> bool:
        """Whether a command for tenant ``name`` would have been served by this file."""
        return name == self.tenant or (self.tenant is None and name == self.path.stem)


@dataclass(slots=True)
class TenantFiles:
    """The tenant files of a directory, each loaded on its own."""

    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    skipped: dict[Path, SkippedTenantFile] = field(default_factory=dict)

    @property
    def issues(self) -> list[ConfigIssue]:
        """Every problem of every skipped file."""
        return [issue for file in self.skipped.values() for issue in file.issues]


def _named_slug(doc: YamlDocument | None) -> str | None:
    data = doc.data if doc is not None else None
    slug = data.get("tenant") if isinstance(data, Mapping) else None
    return slug if isinstance(slug, str) else None


def load_tenant_files(
    directory: str | Path,
    plugin_settings_model: PluginSettingsLookup | None = None,
    *,
    complete: bool = False,
) -> TenantFiles:
    """Every ``*.yaml`` (and ``*.yml``) tenant file in ``directory``, each on its own.

    A file with any problem is skipped with all of them (:class:`SkippedTenantFile`),
    as is a second file claiming a slug an earlier file (by name) already has; any
    other file is loaded. Nothing a file contains raises.

    :param complete: also skip files with problems that stop single customers'
        statements only (``check-config``).
    :raises ConfigError: the directory does not exist (no tenant could be served).
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigError([ConfigIssue(str(directory), None, "", "tenants directory not found")])
    files = TenantFiles()
    owners: dict[str, Path] = {}
    for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            tenant, doc, issues = _load(path, plugin_settings_model, complete)
        except Exception as exc:  # a bug here must cost one tenant, not every tenant
            issue = ConfigIssue(
                str(path), None, "", f"cannot be checked: {type(exc).__name__}: {exc}"
            )
            files.skipped[path] = SkippedTenantFile(path, None, [issue])
            continue
        if tenant is None or doc is None:
            files.skipped[path] = SkippedTenantFile(path, _named_slug(doc), issues)
            continue
        if tenant.tenant in owners:
            issue = doc.issue(
                ("tenant",), f"tenant {tenant.tenant!r} is also defined in {owners[tenant.tenant]}"
            )
            files.skipped[path] = SkippedTenantFile(path, None, [issue])
            continue
        owners[tenant.tenant] = path
        files.tenants[tenant.tenant] = tenant
    return files


def load_tenants(
    directory: str | Path, plugin_settings_model: PluginSettingsLookup | None = None
) -> list[TenantConfig]:
    """Load every ``*.yaml`` (and ``*.yml``) tenant file in ``directory``, by file name.

    This is ``check-config``'s view: it also refuses what would stop single
    customers' statements (see :func:`load_tenant_files` for serving the good files).

    :raises ConfigError: listing every problem of every file, including two files
        that claim the same tenant slug.
    """
    files = load_tenant_files(directory, plugin_settings_model, complete=True)
    if files.skipped:
        raise ConfigError(files.issues)
    return list(files.tenants.values())


def tenant_json_schema() -> dict[str, Any]:
    """JSON Schema of the tenant file, for editors (e.g. yaml-language-server)."""
    schema = TenantConfig.model_json_schema()
    schema["title"] = "Billing Connector tenant file"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": TENANT_SCHEMA_ID,
        **schema,
    }
