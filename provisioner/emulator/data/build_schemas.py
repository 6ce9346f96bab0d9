"""Build data/schemas.json: the shapes of the request bodies the emulator checks, derived from the
installed SDKs' generated models (themselves generated from the REST specs), so the emulator needs
neither the SDKs nor a hand-written list of properties at run time.

    python -m provisioner.emulator.data.build_schemas      # rewrites data/schemas.json

Sources (the versions are recorded in the file):
- azure-mgmt-cognitiveservices (autorest, Microsoft.CognitiveServices 2025-09-01), azure-mgmt-msi,
  azure-mgmt-authorization (2022-04-01) and azure-mgmt-monitor (2021-05-01-preview): each model's
  `_attribute_map` (JSON names and types; a "properties.x" key is member x of a nested "properties"
  object, the model "<Name>Properties" here) and `_validation` (readonly, required, minimum, maximum,
  pattern, lengths); enum properties from the models' `__init__` annotations (`_models.<Enum>`).
- azure-mgmt-keyvault, azure-mgmt-resource and azure-mgmt-network (TypeSpec-generated): each model's `rest_field`s (JSON
  name, visibility: a field visible only for "read" is read-only) and type hints (a field whose type
  is not Optional is required; enums are `Union[str, <Enum>]`; `datetime` fields with format
  "unix-timestamp" are integers).

The file maps a root key (a resource type, "#patch" for the PATCH body) to a model name, and each
model name to its properties: {"t": type, "ro": true, "req": true, "enum": [...], "enumName", "min",
"max", "minLen", "maxLen", "pattern"}. Types: "str", "int", "float", "bool", "any", "[T]" (array),
"{T}" (map of T), or a model name.
"""
from __future__ import annotations

import datetime
import enum
import importlib.metadata
import inspect
import json
import re
import typing
from pathlib import Path

OUTPUT = Path(__file__).with_name("schemas.json")
ROOTS = {
    "Microsoft.CognitiveServices/accounts": ("cognitiveservices", "Account"),
    "Microsoft.CognitiveServices/accounts/deployments": ("cognitiveservices", "Deployment"),
    "Microsoft.CognitiveServices/accounts/deployments#patch": ("cognitiveservices", "PatchResourceTagsAndSku"),
    "Microsoft.CognitiveServices/accounts/raiPolicies": ("cognitiveservices", "RaiPolicy"),
    "Microsoft.CognitiveServices/accounts/raiBlocklists": ("cognitiveservices", "RaiBlocklist"),
    "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems": ("cognitiveservices", "RaiBlocklistItem"),
    "Microsoft.KeyVault/vaults": ("keyvault", "VaultCreateOrUpdateParameters"),
    "Microsoft.KeyVault/vaults#patch": ("keyvault", "VaultPatchParameters"),
    "Microsoft.KeyVault/vaults/secrets": ("keyvault", "SecretCreateOrUpdateParameters"),
    "Microsoft.KeyVault/vaults/secrets#patch": ("keyvault", "SecretPatchParameters"),
    "Microsoft.Resources/resourceGroups": ("resources", "ResourceGroup"),
    "Microsoft.Network/virtualNetworks": ("network", "VirtualNetwork"),
    "Microsoft.Network/virtualNetworks/subnets": ("network", "Subnet"),
    "Microsoft.Network/privateEndpoints": ("network", "PrivateEndpoint"),
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": ("network", "PrivateDnsZoneGroup"),
    "Microsoft.ManagedIdentity/userAssignedIdentities": ("msi", "Identity"),
    "Microsoft.Authorization/roleAssignments": ("authorization", "RoleAssignmentCreateParameters"),
    "Microsoft.Insights/diagnosticSettings": ("monitor", "DiagnosticSettingsResource"),
}
PACKAGES = {"cognitiveservices": ("azure.mgmt.cognitiveservices.models", "azure-mgmt-cognitiveservices"),
            "keyvault": ("azure.mgmt.keyvault.models", "azure-mgmt-keyvault"),
            "resources": ("azure.mgmt.resource.resources.models", "azure-mgmt-resource"),
            "network": ("azure.mgmt.network.models", "azure-mgmt-network"),
            "msi": ("azure.mgmt.msi.models", "azure-mgmt-msi"),
            # the api-versions the SDKs default to for these operation groups
            "authorization": ("azure.mgmt.authorization.v2022_04_01.models", "azure-mgmt-authorization"),
            "monitor": ("azure.mgmt.monitor.v2021_05_01_preview.models", "azure-mgmt-monitor")}
AUTOREST_TYPES = {"str": "str", "int": "int", "long": "int", "float": "float", "bool": "bool", "object": "any",
                  "iso-8601": "str", "rfc-1123": "str", "duration": "str", "date": "str", "unix-time": "int",
                  "bytearray": "str", "base64": "str"}


class Builder:
    def __init__(self) -> None:
        self.models: dict[str, dict] = {}

    def add(self, package: str, name: str) -> str:
        module = importlib.import_module(PACKAGES[package][0])
        cls = getattr(module, name)
        key = f"{package}.{name}"
        if key not in self.models:
            self.models[key] = {}  # placeholder: models may refer to themselves
            if hasattr(cls, "_attribute_map"):
                self.models[key] = self._autorest(package, module, cls)
            else:
                self.models[key] = self._typespec(package, module, cls)
        return key

    # autorest (msrest) models: _attribute_map / _validation / __init__ annotations
    def _autorest(self, package: str, module, cls) -> dict:
        validation = getattr(cls, "_validation", {}) or {}
        annotations = {n: str(p.annotation) for n, p in inspect.signature(cls.__init__).parameters.items()}
        properties: dict = {}
        flattened: dict = {}  # "properties.x" keys: members of a nested "properties" object in the JSON
        for attr, spec in cls._attribute_map.items():
            into, key = properties, spec["key"]
            if "." in key:
                if not key.startswith("properties.") or key.count(".") > 1:
                    continue  # deeper flattening does not occur in the models used here
                into, key = flattened, key.split(".", 1)[1]
            entry = {"t": self._autorest_type(package, module, spec["type"])}
            rules = validation.get(attr, {})
            if rules.get("readonly"):
                entry["ro"] = True
            if rules.get("required"):
                entry["req"] = True
            for source, target in (("minimum", "min"), ("maximum", "max"), ("min_length", "minLen"),
                                   ("max_length", "maxLen"), ("pattern", "pattern")):
                if source in rules:
                    entry[target] = rules[source]
            enum_type = self._enum(module, annotations.get(attr, ""))
            if enum_type and entry["t"] == "str":
                entry["enum"], entry["enumName"] = [m.value for m in enum_type], enum_type.__name__
            into[key] = entry
        if flattened:
            nested = f"{package}.{cls.__name__}Properties"
            self.models[nested] = flattened
            properties["properties"] = {"t": nested}
        return properties

    def _autorest_type(self, package: str, module, name: str) -> str:
        if name.startswith("[") and name.endswith("]"):
            return f"[{self._autorest_type(package, module, name[1:-1])}]"
        if name.startswith("{") and name.endswith("}"):
            return "{" + self._autorest_type(package, module, name[1:-1]) + "}"
        if name in AUTOREST_TYPES:
            return AUTOREST_TYPES[name]
        return self.add(package, name)

    @staticmethod
    def _enum(module, annotation: str) -> type[enum.Enum] | None:
        for candidate in re.findall(r"_models\.(\w+)", annotation):
            target = getattr(module, candidate, None)
            if inspect.isclass(target) and issubclass(target, enum.Enum):
                return target
        return None

    # TypeSpec models: rest_field descriptors and type hints
    def _typespec(self, package: str, module, cls) -> dict:
        namespace = {**vars(importlib.import_module(cls.__module__)), "_models": module}
        hints = typing.get_type_hints(cls, globalns=namespace)
        fields = {}
        for base in reversed(cls.__mro__):
            fields.update({k: v for k, v in vars(base).items() if type(v).__name__ == "_RestField"})
        properties = {}
        for attr, field in fields.items():
            rest_name = field._rest_name_input or attr
            hint = hints.get(attr, typing.Any)
            required = not _optional(hint)
            entry = {"t": self._hint_type(package, module, _strip_optional(hint), field._format)}
            if field._visibility == ["read"]:
                entry["ro"] = True
            if required and not entry.get("ro"):
                entry["req"] = True
            enum_type = _hint_enum(hint)
            if enum_type:
                entry["enum"], entry["enumName"] = [m.value for m in enum_type], enum_type.__name__
            properties[rest_name] = entry
        return properties

    def _hint_type(self, package: str, module, hint, fmt: str | None) -> str:
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if hint is str:
            return "str"
        if hint is bool:
            return "bool"
        if hint is int:
            return "int"
        if hint is float:
            return "float"
        if hint is datetime.datetime:
            return "int" if fmt == "unix-timestamp" else "str"
        if origin is list:
            return f"[{self._hint_type(package, module, args[0], fmt)}]"
        if origin is dict:
            return "{" + self._hint_type(package, module, args[1], fmt) + "}"
        if origin is typing.Union:
            concrete = [a for a in args if a is not type(None)]
            if str in concrete:
                return "str"  # Union[str, SomeEnum]
            return self._hint_type(package, module, concrete[0], fmt) if len(concrete) == 1 else "any"
        if inspect.isclass(hint) and hasattr(module, hint.__name__):
            return self.add(package, hint.__name__)
        return "any"


def _optional(hint) -> bool:
    return typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint)


def _strip_optional(hint):
    if _optional(hint):
        rest = [a for a in typing.get_args(hint) if a is not type(None)]
        return rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]
    return hint


def _hint_enum(hint) -> type[enum.Enum] | None:
    for arg in typing.get_args(_strip_optional(hint)) or (hint,):
        if inspect.isclass(arg) and issubclass(arg, enum.Enum):
            return arg
    return None


def build() -> dict:
    builder = Builder()
    roots = {root: builder.add(package, name) for root, (package, name) in ROOTS.items()}
    sources = {dist: importlib.metadata.version(dist) for _, dist in PACKAGES.values()}
    return {"sources": sources, "roots": roots, "models": dict(sorted(builder.models.items()))}


def main() -> None:
    OUTPUT.write_text(json.dumps(build(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {OUTPUT} ({OUTPUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
