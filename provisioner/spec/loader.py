"""Read deployments.yaml into a `Spec`, pointing every problem at its line.

Steps: parse YAML into nodes (they carry positions), turn the nodes into plain
values while noting each value's position and expanding ${VAR} references,
then validate with the pydantic models. Every problem found is collected and
raised as one SpecError.

YAML details: only true/false are booleans (yes/no/on/off stay text, so
`jailbreak: off` means what it says); dates stay text (`version: 2024-11-20`);
merge keys (`<<: *defaults`) work; duplicate keys are errors.
"""
from __future__ import annotations

import difflib
import os
import re
import types
from pathlib import Path as FilePath
from typing import Annotated, Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from provisioner.errors import Diagnostic, SpecError
from provisioner.spec.schema import Path, SourceMap, Spec, format_path

_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# "$${" is an escaped literal "${"; a "${" without "}" is reported.
_ENV_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_ENV_VARIABLE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?", re.DOTALL)

_EXPECTED_BY_ERROR_TYPE = {
    "bool_type": "true or false",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
    "int_type": "a whole number",
    "list_type": "a list",
    "string_type": "text",
}


def load_spec(path: str | FilePath) -> Spec:
    """Read and validate a spec file; raise SpecError listing every problem."""
    file = str(path)
    try:
        text = FilePath(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Diagnostic(file, None, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Diagnostic(file, None, None, "", f"cannot read the file: {exc}")]) from None
    return load_text(text, file)


def load_text(text: str, filename: str = "deployments.yaml") -> Spec:
    """Parse and validate spec text; `filename` is used in diagnostics."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecError([_syntax_diagnostic(exc, filename)]) from None
    if root is None:
        raise SpecError([Diagnostic(filename, None, None, "", "the file is empty; a spec starts with `version: 1`")])

    reader = _NodeReader(filename)
    data = reader.read(root, ())
    source = SourceMap(filename, reader.values, reader.keys)
    diagnostics = list(reader.diagnostics)
    try:
        spec = Spec.model_validate(data)
    except ValidationError as exc:
        for diagnostic in _schema_diagnostics(exc, source):
            if diagnostic.path not in reader.unusable_paths:
                diagnostics.append(diagnostic)
    if diagnostics:
        raise SpecError(_sorted_unique(diagnostics))
    spec._source = source  # the spec package's own bookkeeping (see Spec.source)
    return spec


def _syntax_diagnostic(exc: yaml.YAMLError, filename: str) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return Diagnostic(filename, None, None, "", f"invalid YAML: {exc}")
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return Diagnostic(filename, mark.line + 1, mark.column + 1, "", message)


def _position(node: Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _NodeReader:
    """Turns YAML nodes into plain values, noting positions and ${VAR} problems."""

    def __init__(self, filename: str):
        self.filename = filename
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.unusable_paths: set[str] = set()  # values reported here; schema errors about them would only repeat
        self._constructor = yaml.SafeLoader("")  # constructs scalars and applies merge keys
        self._resolver = yaml.resolver.Resolver()

    def read(self, node: Node, path: Path) -> Any:
        self.values[path] = _position(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.read(item, path + (index,)) for index, item in enumerate(node.value)]
        return self._scalar(node, path)

    def _report(self, node: Node, path: Path, message: str, *, value_is_unusable: bool = True) -> None:
        line, column = _position(node)
        self.diagnostics.append(Diagnostic(self.filename, line, column, format_path(path), message))
        if value_is_unusable:
            self.unusable_paths.add(format_path(path))

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        repeated = self._report_repeated_keys(node, path)
        try:
            self._constructor.flatten_mapping(node)  # puts merged (<<) entries first, so own keys win below
        except yaml.YAMLError as exc:
            self._report(node, path, f"invalid merge key: {getattr(exc, 'problem', exc)}")
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node in repeated:
                continue
            if not isinstance(key_node, ScalarNode):
                self._report(key_node, path, "a key must be plain text, not a list or mapping", value_is_unusable=False)
                continue
            key = key_node.value  # the key as written: `4711:` and `yes:` stay text
            self.keys[path + (key,)] = _position(key_node)
            result[key] = self.read(value_node, path + (key,))
        return result

    def _report_repeated_keys(self, node: MappingNode, path: Path) -> set[Node]:
        first_by_key: dict[str, Node] = {}
        repeated = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            first = first_by_key.setdefault(key_node.value, key_node)
            if first is not key_node:
                message = f"duplicate key '{key_node.value}' (first at line {_position(first)[0]})"
                self._report(key_node, path + (key_node.value,), message, value_is_unusable=False)
                repeated.add(key_node)
        return repeated

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        if node.tag == _STR_TAG and "${" in node.value:
            text = self._expand(node, path)
            if node.style is not None:  # quoted: stays text
                return text
            # Plain `capacity: ${CAP}` is typed after expansion, as if the value were written there.
            node = ScalarNode(self._resolver.resolve(ScalarNode, text, (True, False)), text, node.start_mark)
        if node.tag == _TIMESTAMP_TAG:
            return node.value
        if node.tag == _BOOL_TAG and node.value.lower() not in ("true", "false"):
            return node.value
        try:
            return self._constructor.construct_object(node)
        except yaml.YAMLError as exc:
            self._report(node, path, f"cannot read this value: {getattr(exc, 'problem', exc)}")
            return None

    def _expand(self, node: ScalarNode, path: Path) -> str:
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            reference = match.group(1)
            if reference is None:
                self._report(node, path, "'${' is not closed by '}'; write '$${' for a literal '${'")
                return match.group(0)
            variable = _ENV_VARIABLE.fullmatch(reference)
            if variable is None:
                message = f"'${{{reference}}}' is not a valid reference; expected ${{NAME}} or ${{NAME:-default}}"
                self._report(node, path, message)
                return match.group(0)
            name, default = variable.groups()
            value = os.environ.get(name)
            if default is not None and not value:  # like the shell: unset or empty takes the default
                return default
            if value is None:
                message = f"environment variable {name} is not set; set it or give a default: ${{{name}:-value}}"
                self._report(node, path, message)
                return match.group(0)
            return value

        return _ENV_REFERENCE.sub(replace, node.value)


def _schema_diagnostics(exc: ValidationError, source: SourceMap) -> list[Diagnostic]:
    errors = exc.errors()
    # `capacty: 10` reads as both "unknown capacty" and "capacity missing"; the first says it all.
    suggested = {
        (error["loc"][:-1], _closest(error["loc"][-1], _allowed_keys(error["loc"][:-1])))
        for error in errors
        if error["type"] == "extra_forbidden"
    }
    diagnostics = []
    for error in errors:
        if error["type"] == "missing" and (error["loc"][:-1], error["loc"][-1]) in suggested:
            continue
        path = _written_path(error["loc"], error["type"], source)
        at_key = error["type"] == "extra_forbidden"
        diagnostics.append(source.diagnostic(path, _plain_message(error), at_key=at_key))
    return diagnostics


def _written_path(loc: tuple[Any, ...], error_type: str, source: SourceMap) -> Path:
    """The error's path as written in the file.

    Parts that name nothing in the file are dropped: pydantic's union branch
    names ("scalar", "mapping"). A missing field keeps its name.
    """
    path: Path = ()
    for part in loc:
        if path + (part,) in source.values:
            path += (part,)
    if error_type == "missing":
        path += (loc[-1],)
    return path


def _plain_message(error: ErrorDetails) -> str:
    error_type, value, loc = error["type"], error["input"], error["loc"]
    context = error.get("ctx", {})
    found = f"found {_describe(value)}"
    if error_type == "missing":
        return f"required field '{loc[-1]}' is missing"
    if error_type == "extra_forbidden":
        return _unknown_key_message(str(loc[-1]), _allowed_keys(loc[:-1]))
    if error_type == "literal_error":
        options = re.findall(r"'([^']*)'", context["expected"])
        return f"expected {context['expected']}, {found}" + did_you_mean(value, options)
    if error_type == "expected":  # our own shape errors (see schema._scalar_or_mapping)
        return f"expected {error['msg']}, {found}"
    if error_type == "greater_than":
        return f"expected a number greater than {context['gt']}, {found}"
    if error_type == "value_error":
        return str(context["error"])
    if error_type in _EXPECTED_BY_ERROR_TYPE:
        return f"expected {_EXPECTED_BY_ERROR_TYPE[error_type]}, {found}"
    return f"{error['msg']}, {found}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def did_you_mean(value: Any, options: list[str]) -> str:
    """"; did you mean 'x'?" naming the option closest to `value`, or ""."""
    match = _closest(value, options)
    return f"; did you mean '{match}'?" if match else ""


def _closest(value: Any, options: list[str]) -> str | None:
    if not isinstance(value, str):
        return None
    by_lowercase = {option.lower(): option for option in options}
    matches = difflib.get_close_matches(value.lower(), list(by_lowercase), n=1)
    return by_lowercase[matches[0]] if matches else None


def _unknown_key_message(key: str, allowed: list[str]) -> str:
    suggestion = did_you_mean(key, allowed)
    if suggestion:
        return f"unknown field '{key}'{suggestion}"
    return f"unknown field '{key}'; expected one of: {', '.join(allowed)}"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model expected at `loc`."""
    annotations: list[Any] = [Spec]
    for part in loc:
        children = [child for annotation in annotations for child in _child_annotations(annotation, part)]
        annotations = children or annotations  # no child: `part` is a union branch name
    models = [model for annotation in annotations for model in _models_in(annotation)]
    return sorted({name for model in models for name in model.model_fields})


def _child_annotations(annotation: Any, part: Any) -> list[Any]:
    children = []
    for member in _union_members(annotation):
        if _is_model(member) and part in member.model_fields:
            children.append(member.model_fields[part].annotation)
        elif get_origin(member) is list and isinstance(part, int):
            children.append(get_args(member)[0])
        elif get_origin(member) is dict and isinstance(part, str):
            children.append(get_args(member)[1])
    return children


def _union_members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _union_members(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return [member for arg in get_args(annotation) for member in _union_members(arg)]
    return [annotation]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    return [member for member in _union_members(annotation) if _is_model(member)]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _sorted_unique(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    unique = list(dict.fromkeys(diagnostics))  # one value can fail the same way twice
    return sorted(unique, key=lambda d: (d.line or 0, d.column or 0))
