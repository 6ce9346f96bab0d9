"""Read deployments.yaml into a `Spec`, pointing every problem at its line.

Steps: parse YAML into nodes (they carry positions), turn the nodes into plain
values while noting each value's position and expanding ${VAR} references,
then validate with the pydantic models. Every problem found is collected and
raised as one SpecError.

YAML details: only true/false are booleans (yes/no/on/off stay text, so
`jailbreak: off` means what it says); dates stay text (`version: 2024-11-20`);
merge keys (`<<: *defaults`) work; duplicate keys are errors.

Hostile input is stopped early, each limit with a file:line error: at most
MAX_CHARACTERS characters, nesting at most MAX_DEPTH levels deep, and at most
MAX_NODES values read, where an alias counts as everything it repeats each time
it is used (so a small "billion laughs" file stops after a few hundred events).
The composer checks the last two while it builds the node tree, before anything
is expanded or recursed into.

libyaml parses when PyYAML was built with it (about 10 times faster than
PyYAML's own parser), which has the last word wherever the two could differ:
it reads again every text libyaml finds an error in or reads differently (see
_compose), so the diagnostics are the same either way.
"""
from __future__ import annotations

import difflib
import gc
import os
import re
import types
from contextlib import contextmanager
from pathlib import Path as FilePath
from typing import Annotated, Any, Iterator, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import Resolver
from yaml.scanner import Scanner, ScannerError

from provisioner.errors import Diagnostic, SpecError
from provisioner.model.names import MAX_TAG_NAME, is_printable, shown
from provisioner.spec.schema import Path, SourceMap, Spec, format_path

try:
    from yaml.cyaml import CParser  # PyYAML built with libyaml
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    CParser = None

# Bicep's loadYamlContent() reads at most 1,048,576 characters, and infra/main.bicep reads this
# same file with it (learn.microsoft.com/azure/azure-resource-manager/bicep/bicep-functions-files).
MAX_CHARACTERS = 1_048_576
MAX_DEPTH = 64  # a spec nests about 6 levels deep
# More than a file of MAX_CHARACTERS can hold without aliases (a value takes at least 2 characters).
MAX_NODES = 1_000_000
MAX_KEY = MAX_TAG_NAME  # no key a spec defines is longer than a tag name

_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_INT_TAG = "tag:yaml.org,2002:int"
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
        with open(path, encoding="utf-8") as stream:
            text = stream.read(MAX_CHARACTERS + 1)  # enough to tell that a file is too long
    except FileNotFoundError:
        raise SpecError([Diagnostic(file, None, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Diagnostic(file, None, None, "", f"cannot read the file: {exc}")]) from None
    return load_text(text, file)


def load_text(text: str, filename: str = "deployments.yaml") -> Spec:
    """Parse and validate spec text; `filename` is used in diagnostics."""
    if len(text) > MAX_CHARACTERS:
        raise SpecError([_too_long(text, filename)])
    with _cycle_collector_paused():
        return _parsed(text, filename)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Reading makes a dozen objects per value and no reference cycles to collect; left on, the
    cycle collector rescans them all, again and again (a third of the time for 10,000 deployments)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _parsed(text: str, filename: str) -> Spec:
    try:
        root = _compose(text)
    except yaml.YAMLError as exc:
        raise SpecError([_syntax_diagnostic(exc, filename)]) from None
    except _TooLarge as exc:
        raise SpecError([Diagnostic(filename, exc.mark.line + 1, exc.mark.column + 1, "", exc.message)]) from None
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


def _too_long(text: str, filename: str) -> Diagnostic:
    line = text.count("\n", 0, MAX_CHARACTERS) + 1
    column = MAX_CHARACTERS - (text.rfind("\n", 0, MAX_CHARACTERS) + 1) + 1
    message = (
        f"the file is longer than {MAX_CHARACTERS:,} characters, the most Bicep's loadYamlContent()"
        " reads (infra/main.bicep reads this file with it); split the accounts over several specs"
    )
    return Diagnostic(filename, line, column, "", message)


class _TooLarge(Exception):
    """The document nests too deep or expands to too many values; `mark` is where."""

    def __init__(self, mark: Any, message: str):
        super().__init__(message)
        self.mark = mark
        self.message = message


class _BoundedComposer(Composer):
    """PyYAML's composer, stopping at MAX_DEPTH levels and MAX_NODES values.

    An alias counts as the whole node it repeats (nodes and levels), every time
    it is used, because that is what reading the tree costs. The resolver's
    answer is remembered per scalar text, and plain scalars get style None
    from either parser (libyaml reports '').
    """

    def __init__(self) -> None:
        Composer.__init__(self)
        self._depth = 0  # levels open now
        self._deepest = 0  # deepest level reached inside the node being composed
        self._nodes = 0  # values read so far, aliases expanded
        self._extent: dict[Node, tuple[int, int]] = {}  # anchored node -> (values, levels) in it
        self._tags: dict[tuple[str, Any], str] = {}
        self.read_differently = False  # a tag, an empty value or " ?" in plain text was read (see _compose)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if event.__class__ is AliasEvent:
            node = Composer.compose_node(self, parent, index)  # raises for an undefined alias
            if node not in self._extent:
                raise _TooLarge(event.start_mark, f"alias *{event.anchor} is used inside its own anchor (a loop)")
            values, levels = self._extent[node]
            self._count(values, self._depth + levels, event.start_mark)
            return node
        if event.tag is not None or (event.__class__ is ScalarEvent and not event.style
                                     and (not event.value or " ?" in event.value)):
            self.read_differently = True
        anchor = event.anchor
        if anchor is not None and anchor in self.anchors:
            raise ComposerError(f"found duplicate anchor {anchor!r}; first occurrence",
                                self.anchors[anchor].start_mark, "second occurrence", event.start_mark)
        depth = self._depth = self._depth + 1
        start, outer_deepest = self._nodes, self._deepest
        self._count(1, depth, event.start_mark)
        if event.__class__ is ScalarEvent:
            node = self.compose_scalar_node(anchor)
        elif event.__class__ is SequenceStartEvent:
            node = self.compose_sequence_node(anchor)
        else:
            node = self.compose_mapping_node(anchor)
        if anchor is not None:
            self._extent[node] = (self._nodes - start, self._deepest - depth + 1)
        if outer_deepest > self._deepest:
            self._deepest = outer_deepest
        self._depth = depth - 1
        return node  # no path resolvers are registered, so none are descended or ascended

    def compose_scalar_node(self, anchor: str | None) -> ScalarNode:
        event = self.get_event()
        tag = event.tag
        if tag is None or tag == "!":
            key = (event.value, event.implicit)
            tag = self._tags.get(key)
            if tag is None:
                tag = self._tags[key] = self.resolve(ScalarNode, *key)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style or None)
        if anchor is not None:
            self.anchors[anchor] = node
        return node

    def _count(self, values: int, depth: int, mark: Any) -> None:
        self._nodes += values
        if depth > self._deepest:
            self._deepest = depth
            if depth > MAX_DEPTH:
                raise _TooLarge(mark, f"the document nests more than {MAX_DEPTH} levels deep here (aliases"
                                      " included); a spec needs fewer than 10")
        if self._nodes > MAX_NODES:
            raise _TooLarge(mark, f"the document expands to more than {MAX_NODES:,} values here: aliases repeat"
                                  " everything they refer to, every time they are used")


class _LinearScanner(Scanner):
    """PyYAML's scanner with its simple-key bookkeeping linear instead of quadratic in the nesting.

    PyYAML walks every open flow level's possible simple key for every token, so
    `[[[[...` took half a second before the composer could stop it. Keys are
    only ever saved at the deepest open level, so the dict holds them in level
    order, oldest first: the stale ones are a prefix, and the nearest key is the
    first (as the comment in PyYAML's next_possible_simple_key notes).
    """

    def next_possible_simple_key(self) -> int | None:
        for key in self.possible_simple_keys.values():
            return key.token_number
        return None

    def stale_possible_simple_keys(self) -> None:
        stale = []
        for level, key in self.possible_simple_keys.items():
            if key.line == self.line and self.index - key.index <= 1024:
                break
            if key.required:
                raise ScannerError("while scanning a simple key", key.mark,
                                   "could not find expected ':'", self.get_mark())
            stale.append(level)
        for level in stale:
            del self.possible_simple_keys[level]


class _PythonParser(Reader, _LinearScanner, Parser, _BoundedComposer, Resolver):
    def __init__(self, text: str):
        Reader.__init__(self, text)
        _LinearScanner.__init__(self)
        Parser.__init__(self)
        _BoundedComposer.__init__(self)
        Resolver.__init__(self)


PARSERS: dict[str, type] = {"python": _PythonParser}
if CParser is not None:

    class _LibyamlParser(_BoundedComposer, CParser, Resolver):  # libyaml's events, the composer above
        def __init__(self, text: str):
            CParser.__init__(self, text)
            _BoundedComposer.__init__(self)
            Resolver.__init__(self)

    PARSERS["libyaml"] = _LibyamlParser

PARSER = "libyaml" if "libyaml" in PARSERS else "python"  # the one load_text uses (tests switch it)


def _compose(text: str) -> Node | None:
    """The document's node tree, the same whichever parser builds it.

    libyaml and PyYAML read a few things differently: tabs and " ?" inside
    plain text and some odd tags (libyaml accepts them), byte order marks after
    the first character, the position of an empty value in a flow mapping, and
    which errors they find first. So libyaml's tree is used only when it read
    the text cleanly and without any of these; otherwise PyYAML's parser reads
    it again and has the last word.
    """
    if PARSER == "libyaml" and "\t" not in text and text.find("\ufeff", 1) == -1:
        loader = PARSERS["libyaml"](text)
        try:
            root = loader.get_single_node()
            if not loader.read_differently:
                return root
        except (yaml.YAMLError, _TooLarge):
            pass
        finally:
            loader.dispose()
    return _compose_with(PARSERS["python"], text)


def _compose_with(parser: type, text: str) -> Node | None:
    loader = parser(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


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
        repeated, merges = self._report_repeated_keys(node, path)
        if merges:
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
            if (problem := _key_problem(key)) is not None:
                self._report(key_node, path, problem, value_is_unusable=False)
                continue
            self.keys[path + (key,)] = _position(key_node)
            result[key] = self.read(value_node, path + (key,))
        return result

    def _report_repeated_keys(self, node: MappingNode, path: Path) -> tuple[set[Node], bool]:
        """The keys written a second time (reported), and whether the mapping has merge keys."""
        first_by_key: dict[str, Node] = {}
        repeated = set()
        merges = False
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                merges = True
                continue
            if not isinstance(key_node, ScalarNode):
                continue
            first = first_by_key.setdefault(key_node.value, key_node)
            if first is not key_node:
                message = f"duplicate key {shown(key_node.value)} (first at line {_position(first)[0]})"
                self._report(key_node, path + (key_node.value,), message, value_is_unusable=False)
                repeated.add(key_node)
        return repeated, merges

    def _scalar(self, node: ScalarNode, path: Path) -> Any:
        # The two most common values, without construct_object's bookkeeping (same results).
        value = node.value
        if node.tag == _STR_TAG and "${" not in value:
            return value
        if node.tag == _INT_TAG and value.isascii() and value.isdigit() and (value[0] != "0" or value == "0"):
            return int(value)  # YAML 1.1 reads a leading 0 as octal: left to construct_object
        if node.tag == _STR_TAG:
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
        except (yaml.YAMLError, ValueError) as exc:  # `!!int x` fails inside PyYAML with a ValueError
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


def _key_problem(key: str) -> str | None:
    """Keys become names and field paths in one-line messages: printable and of sane length."""
    if len(key) > MAX_KEY:
        return (f"the key {shown(key)} has {len(key)} characters; keys have at most {MAX_KEY}"
                " (Azure's limit for tag names, the longest)")
    if not is_printable(key):
        return f"the key {shown(key)} contains a control character or line break; keys are printable text"
    return None


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
    if error_type == "string_too_short":
        return f"expected at least {context['min_length']} character, {found}"
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
