"""Loading, overriding and printing configurations.

``load_config`` parses YAML with positions (``source.py``), validates with pydantic
(``model.py``), runs the cross checks (``checks.py``) and turns every problem into an Issue
that names file:line:column, the key path, what is wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from tamas.config.checks import check, did_you_mean
from tamas.config.errors import ConfigError, Issue
from tamas.config.model import Config
from tamas.config.source import Document, parse_yaml

DEMO_NAME = "demo.yaml"


def demo_yaml() -> str:
    """The text of the built-in demo configuration (a starting point users can copy)."""
    return resources.files("tamas.config").joinpath(DEMO_NAME).read_text(encoding="utf-8")


def load_config(path: Path | None) -> Config:
    """Load and validate ``path``; ``None`` loads the built-in demo center.

    Raises ConfigError (one line per problem, each naming file:line:column and key).
    """
    if path is None:
        return parse_config(demo_yaml(), DEMO_NAME)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(
            str(path),
            [
                Issue(
                    loc=(),
                    position=None,
                    message=f"cannot read the file: {reason}",
                    hint="check the path and that it is a UTF-8 text file",
                )
            ],
        ) from None
    return parse_config(text, str(path))


def parse_config(text: str, name: str) -> Config:
    """Validate YAML ``text``; ``name`` is how messages refer to it."""
    doc = parse_yaml(text, name)
    try:
        config = Config.model_validate(doc.data)
    except ValidationError as exc:
        issues = [_issue_from(err, doc) for err in exc.errors()]
        raise ConfigError(name, sorted(issues, key=_by_position)) from None
    problems = check(config)
    if problems:
        raise ConfigError(
            name,
            sorted(
                (dataclasses.replace(p, position=doc.position_of(p.loc)) for p in problems),
                key=_by_position,
            ),
        )
    return config


_OPTIONS: dict[tuple[str | int, ...], str] = {
    ("data_dir",): "--data",
    ("server", "bind"): "--bind",
    ("server", "sip_port"): "--sip-port",
    ("server", "http_port"): "--http-port",
}


def _by_position(issue: Issue) -> tuple[int, int]:
    where = issue.position
    return (where.line, where.column) if where is not None else (0, 0)


def with_overrides(
    config: Config,
    *,
    data_dir: Path | None = None,
    bind: str | None = None,
    sip_port: int | None = None,
    http_port: int | None = None,
    sip_trace: bool | None = None,
) -> Config:
    """``config`` with command-line overrides applied (and validated); None keeps a value."""
    data = config.model_dump()
    server: dict[str, Any] = data["server"]
    if data_dir is not None:
        data["data_dir"] = data_dir
    if bind is not None:
        server["bind"] = bind
    if sip_port is not None:
        server["sip_port"] = sip_port
    if http_port is not None:
        server["http_port"] = http_port
    if sip_trace is not None:
        data["logging"]["sip_trace"] = sip_trace
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        empty = Document(name="command line", data=data)
        issues = [_issue_from(e, empty) for e in exc.errors()]
        named = [dataclasses.replace(i, loc=(_OPTIONS.get(i.loc, i.path),)) for i in issues]
        raise ConfigError("command line", named) from None


def to_yaml(config: Config) -> str:
    """``config`` as YAML that ``parse_config`` reads back to an equal Config."""
    text: str = yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    return text


# --- pydantic errors → issues -------------------------------------------------------------

_TAG = re.compile(r"[\[\](]")
_QUOTED = re.compile(r"'([^']*)'")
_SHAPES = {
    "model_type": "should be a mapping",
    "dict_type": "should be a mapping",
    "model_attributes_type": "should be a mapping",
    "tuple_type": "should be a list",
    "list_type": "should be a list",
}


def _issue_from(err: ErrorDetails, doc: Document) -> Issue:
    loc = tuple(p for p in err["loc"] if isinstance(p, int) or not _TAG.search(p))
    kind = err["type"]
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    value = err.get("input")
    got = repr(value) if isinstance(value, str | int | float | bool | types.NoneType) else None
    key = str(loc[-1]) if loc and isinstance(loc[-1], str) else ""
    hint = _hint(kind, key, loc, value, err.get("ctx") or {})
    if kind == "extra_forbidden":
        message, got = "unknown key", None
    elif kind == "missing":
        message, got = "required key is missing", None
    elif kind in _SHAPES:
        message = _SHAPES[kind]
    return Issue(loc=loc, position=doc.position_of(loc), message=message, hint=hint, got=got)


def _hint(
    kind: str, key: str, loc: tuple[str | int, ...], value: object, ctx: dict[str, Any]
) -> str:
    if key.endswith("port") and kind.startswith(("int_", "greater_than", "less_than")):
        return "use a number 1-65535" if key == "port" else "use a number 0-65535 (0 disables)"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return did_you_mean(key, allowed) or (
            f"remove it; allowed keys here: {', '.join(allowed)}" if allowed else "remove it"
        )
    if kind == "missing":
        return f"add '{key}:' to this entry"
    if kind in ("string_type",) and isinstance(value, int | float) and not isinstance(value, bool):
        return f'put it in quotes: "{value}" (quoted digits keep their leading zeros)'
    if kind == "literal_error":
        choices = _QUOTED.findall(str(ctx.get("expected", "")))
        return did_you_mean(str(value), choices) or f"use one of: {', '.join(choices)}"
    if kind.startswith("bool_"):
        return "use true or false"
    if kind.startswith("int_"):
        return "use a whole number"
    if kind.startswith("float_"):
        return "use a number"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return "write it as indented 'key: value' lines"
    if kind in ("tuple_type", "list_type"):
        return "write it as a list, one item per line starting with '- '"
    if key == "bind":
        return "use 127.0.0.1 (this machine only) or 0.0.0.0 (all interfaces)"
    return ""


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Field names of the model found at ``loc`` inside Config (empty if none)."""
    model: type[BaseModel] = Config
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        found = _model_in(field.annotation)
        if found is None:
            return []
        model = found
    return list(model.model_fields)


def _model_in(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
