"""The strict YAML reader behind every config file.

Duplicate keys, aliases, merge keys, non-name keys and exotic tags are refused, each problem
naming its file, dotted key and line; scalars follow the YAML 1.2 core rules rather than PyYAML's
1.1 defaults, so `yes` stays the text "yes" (and is then refused for a boolean) and an unquoted
`10:30` stays a time instead of becoming the number 630.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from catalyst.config.problems import RISK_FILE_NAME, TOP_LEVEL, TRADING_FILE_NAME, dotted, show
from catalyst.config.secrets import SECRET_VARIABLES, looks_like_secret_name
from catalyst.domain.errors import ConfigError

__all__ = ["read_yaml"]

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ALLOWED_TAGS = frozenset(
    {
        _STR_TAG,
        _NULL_TAG,
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:map",
        "tag:yaml.org,2002:seq",
    }
)
# PyYAML's YAML 1.1 scalar rules, replaced below by YAML 1.2 core ones.
_YAML_11_TAGS = frozenset(
    {
        "tag:yaml.org,2002:bool",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
        "tag:yaml.org,2002:timestamp",
    }
)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core scalars and no aliases (duplicates are checked on nodes)."""

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # Aliases let a short file expand without bound and hide where a value came from.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in stubs
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not supported here", event.start_mark
            )
        return super().compose_node(parent, index)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _YAML_11_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
# No leading zeros (PyYAML would read 010 as octal 8) and no sexagesimal (10:30 as 630).
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"
        r"|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$"
    ),
    list("-+0123456789."),
)


def read_yaml(path: Path, *, allow_empty: bool) -> tuple[dict[str, Any] | None, list[ConfigError]]:
    """The parsed contents of one config file and the problems its keys and tags have.

    The contents are None when a problem (an exotic tag, a merge key, a non-name key) makes the
    document unsafe to construct. Raises `ConfigError` when the file cannot be read or parsed,
    is not a mapping, or is empty (only comments) and `allow_empty` is false.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(
            file,
            TOP_LEVEL,
            f"file not found ({TRADING_FILE_NAME} and {RISK_FILE_NAME} are both required)",
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            file, TOP_LEVEL, f"not UTF-8 text (bad byte at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise ConfigError(file, TOP_LEVEL, f"cannot read file: {exc.strerror or exc}") from exc

    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        if (
            node is None
            or (isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG)
            or (isinstance(node, yaml.MappingNode) and not node.value)
        ):
            if allow_empty:
                return {}, []
            # A truncated or emptied file must not quietly mean "every limit at its default".
            raise ConfigError(
                file,
                TOP_LEVEL,
                "the file is empty (or only comments): Catalyst will not run on built-in "
                "defaults by accident; write the settings out (the shipped file lists them all)",
            )
        if not isinstance(node, yaml.MappingNode):
            raise ConfigError(
                file,
                TOP_LEVEL,
                f"must be a mapping of section names to settings (got {_node_kind(node)})",
            )
        problems: list[tuple[ConfigError, bool]] = []
        _check_nodes(node, (), file, problems)
        if any(fatal for _, fatal in problems):
            return None, [problem for problem, _ in problems]
        data: dict[str, Any] = loader.construct_document(node)
        return data, [problem for problem, _ in problems]
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(file, TOP_LEVEL, _describe_yaml_error(exc)) from exc
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        raise ConfigError(file, TOP_LEVEL, f"invalid YAML: {exc}") from exc
    finally:
        loader.dispose()


def _describe_yaml_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"
    detail = "; ".join(part for part in (exc.context, exc.problem) if part)
    return f"invalid YAML{where}: {detail}" if detail else f"invalid YAML{where}"


def _check_nodes(
    node: yaml.Node, path: tuple[str, ...], file: str, problems: list[tuple[ConfigError, bool]]
) -> None:
    """Collect duplicate, non-name, merge and credential-like keys, and exotic tags.

    Each problem comes with `fatal`: true when the document must not be constructed at all.
    """
    line = node.start_mark.line + 1
    if node.tag not in _ALLOWED_TAGS:
        problems.append(
            (
                ConfigError(
                    file, dotted(path), f"YAML tag {node.tag} is not supported (line {line})"
                ),
                True,
            )
        )
        return
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _check_nodes(item, (*path, str(index)), file, problems)
    elif isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE_TAG:
                problem = f"merge keys (<<) are not supported (line {key_line})"
                problems.append((ConfigError(file, dotted(path), problem), True))
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                problem = f"keys must be plain names, not {_node_kind(key_node)} (line {key_line})"
                problems.append((ConfigError(file, dotted(path), problem), True))
                continue
            name: str = key_node.value
            key_path = (*path, name)
            if name in first_seen:
                problem = f"duplicate key at line {key_line} (first at line {first_seen[name]})"
                problems.append((ConfigError(file, dotted(key_path), problem), False))
                continue
            first_seen[name] = key_line
            if looks_like_secret_name(name):
                problem = (
                    f"looks like a credential (line {key_line}): secrets belong in the "
                    f"environment ({', '.join(SECRET_VARIABLES)}), never in config files"
                )
                problems.append((ConfigError(file, dotted(key_path), problem), False))
                continue
            _check_nodes(value_node, key_path, file, problems)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {show(node.value)}"
