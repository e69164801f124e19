"""YAML with positions: the parsed document plus the line and column of every key and item.

PyYAML composes a node tree (each node carries a start mark) before it constructs Python
objects. We keep both: the objects go to pydantic, the marks let an error at ``loc``
``("trunks", 0, "port")`` be reported as ``tamas.yaml:14:5``. Keys are indexed at the key's
own position, sequence items at the item's position, so an error points at what the user typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from tamas.config.errors import ConfigError, Issue, Position

Loc = tuple[str | int, ...]


@dataclass(slots=True)
class Document:
    """A parsed YAML file: its data and where each path in it was written."""

    name: str
    data: object
    positions: dict[Loc, Position] = field(default_factory=dict)

    def position_of(self, loc: Sequence[str | int]) -> Position | None:
        """The position of ``loc`` or, if it was not written, of its nearest written parent."""
        path = tuple(loc)
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.positions.get(())


def parse_yaml(text: str, name: str) -> Document:
    """Parse ``text`` (called ``name`` in messages); bad YAML raises ConfigError at file:line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(name=name, data={}, positions={(): Position(1, 1)})
        positions: dict[Loc, Position] = {}
        issues: list[Issue] = []
        _index(node, (), positions, issues)
        if issues:
            raise ConfigError(name, issues)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Position(mark.line + 1, mark.column + 1) if mark is not None else None
        problem = exc.problem or exc.context or "not valid YAML"
        raise ConfigError(
            name,
            [
                Issue(
                    loc=(),
                    position=where,
                    message=f"YAML syntax error: {problem}",
                    hint="check the indentation and quoting on this line and the one above",
                )
            ],
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            name, [Issue(loc=(), position=None, message=f"YAML error: {exc}", hint="")]
        ) from None
    finally:
        loader.dispose()
    return Document(name=name, data=data, positions=positions)


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _index(node: yaml.Node, path: Loc, positions: dict[Loc, Position], issues: list[Issue]) -> None:
    positions.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[object, Position] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key = str(key_node.value)
            where = _mark(key_node)
            if key in seen:
                first = seen[key]
                issues.append(
                    Issue(
                        loc=(*path, key),
                        position=where,
                        message=f"duplicate key (first written on line {first.line})",
                        hint="keep only one of them",
                    )
                )
                continue
            seen[key] = where
            positions[(*path, key)] = where
            _index(value_node, (*path, key), positions, issues)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            positions[(*path, i)] = _mark(item)
            _index(item, (*path, i), positions, issues)
