"""`provision output` views: text, JSON, dotenv, and an azd environment's `.env`.

Environment variable names (values are never keys, only where to find things):

- `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_DEPLOYMENT`: the spec's first account and its first
  deployment (by name), what single-model apps such as the azd chat samples read;
- per account: `AZURE_OPENAI_ENDPOINT_<ACCOUNT>`, `AZURE_OPENAI_PRINCIPAL_ID_<ACCOUNT>` (when it has a
  system-assigned identity), `AZURE_OPENAI_PRINCIPAL_ID_<ACCOUNT>_<IDENTITY>` (each user-assigned identity, by
  its resource name), `AZURE_OPENAI_ENDPOINT_SECRET_URI_<ACCOUNT>` and `AZURE_OPENAI_KEY_SECRET_URI_<ACCOUNT>`
  (when published to Key Vault);
- per deployment: `AZURE_OPENAI_DEPLOYMENT_<ACCOUNT>_<DEPLOYMENT>` (its name), `..._MODEL`, `..._VERSION`;

where `<NAME>` is the name in upper case with every other character than A-Z and 0-9 as `_`.

The dotenv text is written as azd writes `.azure/<env>/.env`: azd marshals with joho/godotenv
(`godotenv.Marshal`: one `KEY="VALUE"` line per key, sorted, VALUE backslash-escaped, integers
unquoted) and then quotes again any integer whose text Marshal changed (`fixupUnquotedDotenv`),
and ends the file with a newline (Azure/azure-dev cli/azd/pkg/environment/local_file_data_store.go).
"""
from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from provisioner.errors import ProvisionerError

# godotenv's doubleQuoteSpecialChars, escaped in this order (joho/godotenv godotenv.go)
SPECIAL = "\\\n\r\"!$`"
INTEGER = re.compile(r"^-?[0-9]+$")
LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*?)\s*$")


def env_name(*parts: str) -> str:
    return "_".join(re.sub(r"[^A-Z0-9]", "_", p.upper()) for p in parts)


def variables(outputs: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The outputs as environment variables (see the module docstring). Two names that would give the
    same variable are an error rather than one silently hiding the other."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}

    def put(name: str, value: Any, source: str) -> None:
        if value is None:
            return
        if name in sources and sources[name] != source:
            raise ProvisionerError(f"{sources[name]} and {source} both become the variable {name}",
                                   hint="rename one of them, or use `provision output --json`")
        values[name], sources[name] = str(value), source

    outputs = list(outputs)
    if outputs:
        first = outputs[0]
        put("AZURE_OPENAI_ENDPOINT", first["endpoint"], first["name"])
        if first["deployments"]:
            put("AZURE_OPENAI_DEPLOYMENT", first["deployments"][0]["name"], first["name"])
    for account in outputs:
        name = account["name"]
        put(env_name("AZURE_OPENAI_ENDPOINT", name), account["endpoint"], name)
        put(env_name("AZURE_OPENAI_PRINCIPAL_ID", name), account.get("principal_id"), name)
        for identity in account.get("user_assigned_identities") or ():
            put(env_name("AZURE_OPENAI_PRINCIPAL_ID", name, identity["name"]), identity["principal_id"],
                f"{name} identity {identity['name']}")
        put(env_name("AZURE_OPENAI_ENDPOINT_SECRET_URI", name), account["secrets"].get("endpoint"), name)
        put(env_name("AZURE_OPENAI_KEY_SECRET_URI", name), account["secrets"].get("key"), name)
        for deployment in account["deployments"]:
            source = f"{name}/{deployment['name']}"
            prefix = env_name("AZURE_OPENAI_DEPLOYMENT", name, deployment["name"])
            put(prefix, deployment["name"], source)
            put(prefix + "_MODEL", deployment["model"], source)
            put(prefix + "_VERSION", deployment["version"], source)
    return values


def dotenv(values: Mapping[str, str]) -> str:
    """`values` as azd writes an environment's .env (see the module docstring)."""
    lines = []
    for key, value in values.items():
        if INTEGER.match(value) and str(int(value)) == value and -2**63 <= int(value) < 2**63:  # Go's Atoi
            lines.append(f"{key}={value}")
        else:  # strings, and integers Marshal would rewrite ("007"): quoted, as azd's fixup does
            lines.append(f'{key}="{_escape(value)}"')
    return "\n".join(sorted(lines)) + "\n"


def _escape(value: str) -> str:
    for char in SPECIAL:
        value = value.replace(char, {"\n": "\\n", "\r": "\\r"}.get(char, "\\" + char))
    return value


def parse_dotenv(text: str, file: str) -> dict[str, str]:
    """An azd .env file's values: the lines azd writes (KEY="escaped", KEY=123), plus the single-quoted
    and unquoted values and comments people add by hand. Anything else is an error naming the line."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = LINE.match(line)
        if match is None:
            raise ProvisionerError(f"{file}:{number}: not a KEY=VALUE line; nothing was written",
                                   hint="fix the line, or set the values with `azd env set`")
        key, raw = match.groups()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            values[key] = _unescape(raw[1:-1])
        elif raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
            values[key] = raw[1:-1]
        elif raw.startswith(("'", '"')):
            raise ProvisionerError(f"{file}:{number}: {key}: the quoted value does not end on this line; "
                                   "nothing was written", hint="fix the line, or set the values with `azd env set`")
        else:
            values[key] = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    return values


def _unescape(value: str) -> str:
    """godotenv's reading of a double-quoted value: \\n and \\r are line breaks, \\X is X."""
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "r": "\r"}.get(m.group(1), m.group(1)), value, flags=re.S)


def merged_azd_env(existing: str, file: str, values: Mapping[str, str]) -> str:
    """The .env of an azd environment with `values` set and everything else kept, as `azd env set` leaves it."""
    return dotenv({**parse_dotenv(existing, file), **values})


def text_lines(outputs: Iterable[Mapping[str, Any]]) -> list[str]:
    """A human view: one block per account."""
    lines: list[str] = []
    for account in outputs:
        lines.append(f"{account['name']} ({account['location']}, {account['resource_group']})")
        lines.append(f"    endpoint: {account['endpoint']}")
        if account.get("principal_id"):
            lines.append(f"    principal id: {account['principal_id']}")
        for identity in account.get("user_assigned_identities") or ():
            lines.append(f"    user-assigned identity {identity['name']}: principal id {identity['principal_id']}"
                         f" (client id {identity['client_id']})")
        for role in ("endpoint", "key"):
            if account["secrets"].get(role):
                lines.append(f"    {role} secret: {account['secrets'][role]}")
        for deployment in account["deployments"]:
            lines.append(f"    deployment {deployment['name']}: {deployment['model']} {deployment['version']} "
                         f"({deployment['sku']}, capacity {deployment['capacity']})")
        lines.append("")
    return lines
