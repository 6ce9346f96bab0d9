"""Request bodies checked against the API's own models (data/schemas.json, built from the SDKs'
generated models by data/build_schemas.py), the way the services' JSON binding reads them:

- a member the model does not define is ignored, and so is a read-only one (the server sets it);
- a value of the wrong type is 400, naming the property path; strings that convert are accepted
  where the model says integer, number or boolean ("10", "true"), and numbers where it says
  string, as .NET's JSON binding converts them (ARM-FACTS §10);
- an enum value must be one of the enum's values, compared case-insensitively, and is stored as
  the API spells it ("enabled" -> "Enabled");
- a required property missing (or null) is 400; minimum, maximum, lengths and patterns are checked.

The wording follows Json.NET's messages as ARM relays them ("The request content was invalid and
could not be deserialized: 'Error converting value ...'"); the exact text each provider answers is
UNVERIFIED.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from provisioner.emulator.errors import ArmError

DESERIALIZE = "The request content was invalid and could not be deserialized"
INTEGER = re.compile(r"^\s*[-+]?\d+\s*$")
NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(resources.files("provisioner.emulator").joinpath("data/schemas.json").read_text())


def model_of(root: str) -> str:
    return _data()["roots"][root]


def properties_of(model: str) -> dict[str, dict]:
    return _data()["models"][model]


def clean(root: str, body: Any) -> dict:
    """The body as the service reads it (see the module docstring), or ArmError 400."""
    if not isinstance(body, dict):
        raise _invalid(f"Cannot deserialize the current JSON {_json_kind(body)} into the request object.", "")
    return _object(model_of(root), body, "")


def writable(root: str) -> set[str]:
    """The top-level members a client can set on this resource type."""
    return {k for k, v in properties_of(model_of(root)).items() if not v.get("ro")}


@lru_cache(maxsize=None)
def _layout(model: str) -> tuple[dict[str, tuple[str, dict]], tuple[str, ...]]:
    """A model's writable members by lower-cased name, and its required members (cached: every
    request body of that type walks the same model)."""
    declared = properties_of(model)
    writable_members = {k.lower(): (k, v) for k, v in declared.items() if not v.get("ro")}
    required = tuple(k for k, v in declared.items() if v.get("req") and not v.get("ro"))
    return writable_members, required


@lru_cache(maxsize=None)
def _inner(kind: str) -> dict:
    return {"t": kind}


def _object(model: str, value: dict, path: str) -> dict:
    members, required = _layout(model)
    result: dict[str, Any] = {}
    for key, item in value.items():
        member = members.get(key.lower())
        if member is None:
            continue  # unknown or read-only: ignored, as the services' JSON binding ignores them
        if item is None:
            continue  # null: as if absent
        name, spec = member
        result[name] = _value(spec, item, _join(path, name))
    for name in required:
        if name not in result:
            raise _invalid(f"Required property '{name}' not found in JSON.", path)
    return result


def _value(spec: dict, value: Any, path: str) -> Any:
    kind = spec["t"]
    if kind == "str" and value.__class__ is str and len(spec) == 1:
        return value  # the common case: a plain string member
    converted = _typed(kind, value, path)
    if "enum" in spec:
        match = next((e for e in spec["enum"] if e.lower() == str(converted).lower()), None)
        if match is None:
            raise _invalid(f"Error converting value {json.dumps(value)} to type '{spec.get('enumName', 'enum')}'. "
                           f"Allowed values: {', '.join(spec['enum'])}.", path)
        converted = match
    _constraints(spec, converted, path)
    return converted


def _typed(kind: str, value: Any, path: str) -> Any:
    if kind == "any":
        return value
    if kind.startswith("["):
        if not isinstance(value, list):
            raise _invalid(f"Cannot deserialize the current JSON {_json_kind(value)} into an array.", path)
        inner = _inner(kind[1:-1])
        return [_value(inner, item, f"{path}[{i}]") for i, item in enumerate(value) if item is not None]
    if kind.startswith("{"):
        if not isinstance(value, dict):
            raise _invalid(f"Cannot deserialize the current JSON {_json_kind(value)} into a map.", path)
        if path == "tags":  # ARM takes tag values as strings only ("Tag values must be strings", ARM's tag rules)
            for key, item in value.items():
                if not isinstance(item, str):
                    raise _invalid(f"The tag '{key}' has a {_json_kind(item)} value; tag values are strings.",
                                   _join(path, key))
        inner = _inner(kind[1:-1])
        return {k: _value(inner, v, _join(path, k)) if v is not None else None for k, v in value.items()}
    if kind in SCALARS:
        return SCALARS[kind](value, path)
    if not isinstance(value, dict):  # a model
        raise _invalid(f"Cannot deserialize the current JSON {_json_kind(value)} into the object "
                       f"'{kind.split('.')[-1]}'.", path)
    return _object(kind, value, path)


def _string(value: Any, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's Boolean.ToString()
    if isinstance(value, (int, float)):
        return json.dumps(value)
    raise _invalid(f"Unexpected JSON {_json_kind(value)} where a string was expected.", path)


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise _invalid(f"Error converting value {json.dumps(value)} to type 'System.Int32'.", path)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and INTEGER.match(value):
        return int(value)
    raise _invalid(f"Could not convert {json.dumps(value)} to integer.", path)


def _number(value: Any, path: str) -> float | int:
    if isinstance(value, bool):
        raise _invalid(f"Error converting value {json.dumps(value)} to type 'System.Double'.", path)
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and NUMBER.match(value):
        return float(value)
    raise _invalid(f"Could not convert {json.dumps(value)} to a number.", path)


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int):
        return value != 0
    raise _invalid(f"Could not convert {json.dumps(value)} to boolean.", path)


SCALARS = {"str": _string, "int": _integer, "float": _number, "bool": _boolean}


def _constraints(spec: dict, value: Any, path: str) -> None:
    def refuse(rule: str) -> ArmError:
        return ArmError(400, "InvalidRequestContent",  # code and wording UNVERIFIED
                        f"The value '{value}' of property '{path}' is not valid: {rule}.", target=path)

    if "min" in spec and isinstance(value, (int, float)) and value < spec["min"]:
        raise refuse(f"it must be at least {spec['min']}")
    if "max" in spec and isinstance(value, (int, float)) and value > spec["max"]:
        raise refuse(f"it must be at most {spec['max']}")
    if "minLen" in spec and isinstance(value, str) and len(value) < spec["minLen"]:
        raise refuse(f"it must be at least {spec['minLen']} characters long")
    if "maxLen" in spec and isinstance(value, str) and len(value) > spec["maxLen"]:
        raise refuse(f"it must be at most {spec['maxLen']} characters long")
    if "pattern" in spec and isinstance(value, str) and not re.search(spec["pattern"], value):
        raise refuse(f"it must match {spec['pattern']}")


def _invalid(detail: str, path: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent", f"{DESERIALIZE}: '{detail} Path '{path}'.'")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _json_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"
