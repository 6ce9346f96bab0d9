"""ARM template expressions: the subset the emulator's template deployments evaluate.

Pure: no I/O and no emulator state; `providers/templates.py` supplies the
parameters, variables and copy indexes through an `Environment`.

A JSON string is an expression when it starts with `[` and ends with `]`; its
value (any JSON type) replaces the whole string. `[[` at the start escapes a
literal `[`. Inside: function calls, `'single-quoted'` strings (`''` is a quote),
integers, and member access `.name` / `['name']` / `[0]` on the result.

Functions (names case-insensitive, as in ARM):
  parameters('p')  variables('v')
  copyIndex()  copyIndex(offset)  copyIndex('loop')  copyIndex('loop', offset)
  resourceId([subscriptionId,] [resourceGroupName,] type, name1, name2, ...)
  format('{0}/{1}', a, b)   ({n} placeholders and {{ }} escapes, no format specifiers)
  concat(strings or arrays...)  length(string|array|object)  string(x)
  resourceGroup()  subscription()  equals(a, b)  not(b)  true()  false()
  guid(strings...)  extensionResourceId(resourceId, type, name1, ...)
Anything else is refused (TemplateError), as ARM refuses unknown functions.
"""
from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HELP = "Please see https://aka.ms/arm-template-expressions for usage details."
FUNCTIONS = {"parameters", "variables", "copyindex", "resourceid", "format", "concat", "length", "string",
             "resourcegroup", "subscription", "equals", "not", "true", "false", "guid", "extensionresourceid",
             "tolower"}
# guid(): a version-5 UUID of the arguments joined with '-' in ARM's namespace (the Bicep string-functions page)
GUID_NAMESPACE = uuid.UUID("11fb06fb-712d-4ddd-98c7-e71bbd588830")


class TemplateError(Exception):
    """What ARM answers with 400 InvalidTemplate. `located` once the message names where it happened."""

    def __init__(self, message: str, located: bool = False):
        super().__init__(message)
        self.message = message
        self.located = located


@dataclass
class Environment:
    """What expressions can see. `parameter`/`variable` resolve one name (lazily, by the caller)."""

    parameter: Callable[[str], Any]
    variable: Callable[[str], Any]
    subscription_id: str
    resource_group_name: str
    resource_group: dict = field(default_factory=dict)
    subscription: dict = field(default_factory=dict)
    copy_indexes: dict[str, int] = field(default_factory=dict)  # loop name (lower case) -> index
    loop: str | None = None  # the copy loop being expanded


# --- values ------------------------------------------------------------------------------------


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("[") and value.endswith("]") and not value.startswith("[[")


def evaluate(value: Any, env: Environment) -> Any:
    """`value` with every expression inside it (strings, object values, array items) evaluated."""
    if isinstance(value, str):
        if is_expression(value):
            return run(parse(value[1:-1]), env)
        if value.startswith("[["):
            return value[1:]
        return value
    if isinstance(value, dict):
        return {k: evaluate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, env) for v in value]
    return value


def check(value: Any) -> None:
    """Parse every expression inside `value` (syntax and function names), evaluating nothing."""
    if is_expression(value):
        parse(value[1:-1])
    elif isinstance(value, dict):
        for v in value.values():
            check(v)
    elif isinstance(value, list):
        for v in value:
            check(v)


def to_string(value: Any) -> str:
    """ARM's string(): text as is, True/False, JSON for objects and arrays, '' for null."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# --- parsing -------------------------------------------------------------------------------------
# Nodes: ("lit", value) | ("call", name, [args]) | ("member", target, name) | ("index", target, node)


def parse(text: str) -> tuple:
    parser = _Parser(text)
    node = parser.expression()
    parser.skip_space()
    if parser.pos < len(text):
        raise parser.unexpected()
    return node


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def unexpected(self) -> TemplateError:
        if self.pos >= len(self.text):
            return TemplateError(f"The language expression '{self.text}' is not valid: the string ends "
                                 f"unexpectedly. {HELP}")
        return TemplateError(f"The language expression '{self.text}' is not valid: the string character "
                             f"'{self.text[self.pos]}' at position '{self.pos}' is not expected. {HELP}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.unexpected()
        self.pos += 1

    def expression(self) -> tuple:
        node = self.primary()
        while True:
            char = self.peek()
            if char == ".":
                self.pos += 1
                self.skip_space()
                node = ("member", node, self.identifier())
            elif char == "[":
                self.pos += 1
                index = self.expression()
                self.expect("]")
                node = ("index", node, index)
            else:
                return node

    def primary(self) -> tuple:
        char = self.peek()
        if char == "'":
            return ("lit", self.string())
        if char.isdigit() or char == "-":
            return ("lit", self.integer())
        if char.isalpha() or char == "_":
            name = self.identifier()
            if name.lower() not in FUNCTIONS:
                raise TemplateError(f"The template function '{name}' is not valid. {HELP}")
            self.expect("(")
            args: list[tuple] = []
            if self.peek() != ")":
                args.append(self.expression())
                while self.peek() == ",":
                    self.pos += 1
                    args.append(self.expression())
            self.expect(")")
            return ("call", name, args)
        raise self.unexpected()

    def identifier(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_$"):
            self.pos += 1
        if start == self.pos:
            raise self.unexpected()
        return self.text[start:self.pos]

    def string(self) -> str:
        start = self.pos
        self.pos += 1  # the opening quote
        out = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "'":
                if self.text[self.pos + 1:self.pos + 2] == "'":
                    out.append("'")
                    self.pos += 2
                    continue
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise TemplateError(f"The language expression '{self.text}' is not valid: the string literal at "
                            f"position '{start}' is not terminated. {HELP}")

    def integer(self) -> int:
        start = self.pos
        if self.text[self.pos] == "-":
            self.pos += 1
        while self.pos < len(self.text) and self.text[self.pos].isdigit():
            self.pos += 1
        if self.pos == start or self.text[start:self.pos] == "-":
            raise self.unexpected()
        return int(self.text[start:self.pos])


# --- evaluation -------------------------------------------------------------------------------


def run(node: tuple, env: Environment) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "member":
        return _member(run(node[1], env), node[2])
    if kind == "index":
        target, index = run(node[1], env), run(node[2], env)
        if isinstance(index, str):
            return _member(target, index)
        if isinstance(target, list) and isinstance(index, int) and not isinstance(index, bool):
            if not 0 <= index < len(target):
                raise TemplateError(f"The language expression property array index '{index}' is out of bounds.")
            return target[index]
        raise TemplateError(f"The language expression property '{to_string(index)}' can't be evaluated.")
    name, args = node[1], [run(a, env) for a in node[2]]
    return _FUNCTIONS[name.lower()](env, args)


def _member(target: Any, name: str) -> Any:
    if not isinstance(target, dict):
        raise TemplateError(f"The language expression property '{name}' can't be evaluated, property name "
                            "must be a string and the value an object.")
    if name in target:
        return target[name]
    for key, value in target.items():  # ARM's objects are case-insensitive
        if key.lower() == name.lower():
            return value
    raise TemplateError(f"The language expression property '{name}' doesn't exist, available properties are "
                        f"'{', '.join(target)}'.")


def _arity(name: str, args: list, low: int, high: int | None = None) -> None:
    high = low if high is None else high
    if not low <= len(args) <= high:
        expected = str(low) if low == high else (f"at least {low}" if high >= 99 else f"{low} to {high}")
        raise TemplateError(f"Unable to evaluate template language function '{name}': function requires "
                            f"{expected} argument(s) while {len(args)} were provided. {HELP}")


def _parameters(env: Environment, args: list) -> Any:
    _arity("parameters", args, 1)
    if not isinstance(args[0], str):
        raise TemplateError("The template function 'parameters' expects a string (the parameter's name).")
    return env.parameter(args[0])


def _variables(env: Environment, args: list) -> Any:
    _arity("variables", args, 1)
    if not isinstance(args[0], str):
        raise TemplateError("The template function 'variables' expects a string (the variable's name).")
    return env.variable(args[0])


def _copy_index(env: Environment, args: list) -> int:
    _arity("copyIndex", args, 0, 2)
    loop, offset = env.loop, 0
    if args and isinstance(args[0], str):
        loop = args[0]
        args = args[1:]
    if len(args) > 1 or (args and (not isinstance(args[0], int) or isinstance(args[0], bool))):
        raise TemplateError("The template function 'copyIndex' takes an optional loop name and an optional "
                            "integer offset.")
    if args:
        offset = args[0]
    if loop is None or loop.lower() not in env.copy_indexes:
        if loop is not None and env.loop is not None:
            raise TemplateError(f"The template function 'copyIndex' refers to the copy loop '{loop}', which is "
                                "not being expanded here.")
        raise TemplateError(f"The template function 'copyIndex' is not expected at this location. {HELP}")
    return env.copy_indexes[loop.lower()] + offset


def _resource_id(env: Environment, args: list) -> str:
    if not args or not all(isinstance(a, str) for a in args):
        raise TemplateError("Unable to evaluate template language function 'resourceId': all arguments must be "
                            f"strings. {HELP}")
    type_at = next((i for i, a in enumerate(args) if "/" in a), None)
    if type_at is None or type_at > 2:
        raise TemplateError("Unable to evaluate template language function 'resourceId': the resource type "
                            f"argument (Namespace/type) is missing. {HELP}")
    subscription, group = env.subscription_id, env.resource_group_name
    if type_at == 2:
        subscription, group = args[0], args[1]
    elif type_at == 1:
        group = args[0]
    resource_type, names = args[type_at], args[type_at + 1:]
    segments = resource_type.split("/")
    if len(segments) - 1 != len(names) or not all(segments) or not all(names):
        raise TemplateError(f"Unable to evaluate template language function 'resourceId': the type "
                            f"'{resource_type}' requires '{len(segments) - 1}' resource name argument(s). {HELP}")
    path = "/".join(f"{t}/{n}" for t, n in zip(segments[1:], names))
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/{segments[0]}/{path}"


def _guid(env: Environment, args: list) -> str:
    if not args or not all(isinstance(a, str) for a in args):
        raise TemplateError(f"Unable to evaluate template language function 'guid': all arguments must be strings. "
                            f"{HELP}")
    return str(uuid.uuid5(GUID_NAMESPACE, "-".join(args)))


def _to_lower(env: Environment, args: list) -> str:
    _arity("toLower", args, 1)
    if not isinstance(args[0], str):
        raise TemplateError(f"Unable to evaluate template language function 'toLower': the argument must be a string. "
                            f"{HELP}")
    return args[0].lower()


def _extension_resource_id(env: Environment, args: list) -> str:
    """extensionResourceId(resourceId, 'Namespace/type', name...): a resource on another one (a role assignment)."""
    if len(args) < 3 or not all(isinstance(a, str) and a for a in args):
        raise TemplateError("Unable to evaluate template language function 'extensionResourceId': it takes a "
                            f"resource id, a resource type and its name(s), all strings. {HELP}")
    base, resource_type, names = args[0].rstrip("/"), args[1], args[2:]
    segments = resource_type.split("/")
    if len(segments) - 1 != len(names):
        raise TemplateError(f"Unable to evaluate template language function 'extensionResourceId': the type "
                            f"'{resource_type}' requires '{len(segments) - 1}' resource name argument(s). {HELP}")
    return f"{base}/providers/{segments[0]}/" + "/".join(f"{t}/{n}" for t, n in zip(segments[1:], names))


def _format(env: Environment, args: list) -> str:
    if not args or not isinstance(args[0], str):
        raise TemplateError(f"Unable to evaluate template language function 'format': the first argument must be "
                            f"a format string. {HELP}")
    text, values = args[0], args[1:]
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char in "{}" and text[i + 1:i + 2] == char:
            out.append(char)
            i += 2
        elif char == "{":
            end = text.find("}", i)
            spec = text[i + 1:end] if end > 0 else ""
            if not spec.isdigit():
                raise TemplateError(f"Unable to evaluate template language function 'format': the placeholder "
                                    f"'{text[i:end + 1] if end > 0 else text[i:]}' is not supported (use {{0}}, "
                                    f"{{1}}, ...). {HELP}")
            if int(spec) >= len(values):
                raise TemplateError("Unable to evaluate template language function 'format': Index (zero based) "
                                    "must be greater than or equal to zero and less than the size of the argument "
                                    "list.")
            out.append(to_string(values[int(spec)]))
            i = end + 1
        elif char == "}":
            raise TemplateError("Unable to evaluate template language function 'format': Input string was not in "
                                "a correct format.")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _concat(env: Environment, args: list) -> Any:
    if args and all(isinstance(a, list) for a in args):
        return [item for a in args for item in a]
    if any(isinstance(a, (list, dict)) for a in args):
        raise TemplateError("Unable to evaluate template language function 'concat': the arguments must be all "
                            f"arrays or all strings (and numbers). {HELP}")
    return "".join(to_string(a) for a in args)


def _length(env: Environment, args: list) -> int:
    _arity("length", args, 1)
    if not isinstance(args[0], (str, list, dict)):
        raise TemplateError("The template language function 'length' expects its parameter to be an array, an "
                            "object, or a string.")
    return len(args[0])


def _string(env: Environment, args: list) -> str:
    _arity("string", args, 1)
    return to_string(args[0])


def _equals(env: Environment, args: list) -> bool:
    _arity("equals", args, 2)
    a, b = args
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return a == b


def _not(env: Environment, args: list) -> bool:
    _arity("not", args, 1)
    if not isinstance(args[0], bool):
        raise TemplateError("The template language function 'not' expects a boolean parameter.")
    return not args[0]


def _constant(name: str, value: Any) -> Callable[[Environment, list], Any]:
    def function(env: Environment, args: list) -> Any:
        _arity(name, args, 0)
        return value

    return function


_FUNCTIONS: dict[str, Callable[[Environment, list], Any]] = {
    "parameters": _parameters, "variables": _variables, "copyindex": _copy_index, "resourceid": _resource_id,
    "format": _format, "concat": _concat, "length": _length, "string": _string, "equals": _equals, "not": _not,
    "resourcegroup": lambda env, args: (_arity("resourceGroup", args, 0), env.resource_group)[1],
    "subscription": lambda env, args: (_arity("subscription", args, 0), env.subscription)[1],
    "true": _constant("true", True), "false": _constant("false", False), "guid": _guid,
    "extensionresourceid": _extension_resource_id, "tolower": _to_lower,
}
assert set(_FUNCTIONS) == FUNCTIONS
