"""Azure's naming and tag rules, as pure functions.

`provision validate` checks every name in a spec with `problem(kind, name)`;
being pure, it also serves as a last guard just before a request is sent.
Names that become URL path segments are checked against a whitelist, so no
name that passes can address another resource: none is `.` or `..` or ends
with a period, none holds `/`, `\\`, `?`, `#`, `%`, a control character or
surrounding whitespace, and none is longer than its rule allows.

Sources, cited next to each rule:
  [NAMES] learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
  [TAGS]  learn.microsoft.com/azure/azure-resource-manager/management/tag-resources#limitations
  [CS]    Azure/azure-rest-api-specs specification/cognitiveservices/resource-manager/
          Microsoft.CognitiveServices/stable/2025-09-01/cognitiveservices.json, "parameters"
          (the same patterns are in azure-mgmt-cognitiveservices 14.1, operations/*.py)
  [KV]    Azure/azure-rest-api-specs specification/keyvault/resource-manager/
          Microsoft.KeyVault/stable/2023-07-01/secrets.json
  [ARM]   Azure/azure-rest-api-specs specification/common-types/resource-management/v3/types.json
  [BL]    learn.microsoft.com/azure/ai-services/openai/how-to/use-blocklists
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

# Tags [TAGS]: "Each resource, resource group, and subscription can have a maximum of 50 tag
# name/value pairs"; "The tag name is limited to 512 characters, and the tag value is limited to
# 256 characters"; "Tag names can't contain these characters: <, >, %, &, \, ?, /".
MAX_TAGS = 50
PROVISION_TAGS = 4  # managed-by, provision-spec and on an account provision-access, provision-diagnostics
MAX_USER_TAGS = MAX_TAGS - PROVISION_TAGS
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
FORBIDDEN_IN_TAG_NAMES = "<>%&\\?/"

# [BL]: "The maximum length of a blockItem is 1000 characters"; "There is a maximum limit of
# 10,000 terms allowed in one list".
MAX_BLOCKLIST_ITEM = 1000
MAX_BLOCKLIST_ITEMS = 10_000

# Never in a name that becomes a URL path segment, whatever its rule says: these change which
# resource a request addresses (`..` is removed by HTTP stacks; `%2F` decodes to `/`).
_ADDRESS_CHANGING = re.compile(r"[/\\?#%]|[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Rule:
    """What a valid name of one kind looks like, in words and as a pattern."""

    what: str  # "an account name"
    pattern: re.Pattern[str]  # matched against the whole name
    min_length: int
    max_length: int
    rule: str  # the rule in words, for messages: "use 2-64 letters, ..."
    in_path: bool = True  # the name becomes a URL path segment
    printable: bool = True  # no control or format characters (line breaks, bidi overrides)


_ALNUM_HYPHEN_ENDS = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# Children of an account: the pattern [CS] gives raiPolicyName, raiBlocklistName and every other
# child ("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$"), not ending with a period (see path_segment_problem).
_CHILD = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?"
_CHILD_WORDS = ("letters, digits, hyphens, underscores and periods, starting with a letter or digit and not"
                " ending with a period")

RULES: dict[str, Rule] = {
    # [NAMES] Microsoft.CognitiveServices accounts: 2-64, "Alphanumerics and hyphens. Start and end
    # with alphanumeric." ([CS] accountNameParameter also allows _ and ., 2-64; the docs are stricter,
    # and Azure answers CustomDomainInvalid for an underscore in the subdomain the name defaults to.)
    "account": Rule("an account name", re.compile(_ALNUM_HYPHEN_ENDS), 2, 64,
                    "use 2-64 letters, digits and hyphens, starting and ending with a letter or digit"),
    # The custom subdomain is a DNS label, <subdomain>.openai.azure.com: the account rule, at most
    # 63 characters (RFC 1035 2.3.4). Azure: 400 CustomDomainInvalid "Sub domain name
    # 'ai_foundry-resource' is not valid." (shared/azure/ARM-FACTS.md).
    "custom_subdomain": Rule("a custom subdomain", re.compile(_ALNUM_HYPHEN_ENDS), 2, 63,
                             "use 2-63 letters, digits and hyphens, starting and ending with a letter or digit"),
    # [ARM] ResourceGroupNameParameter: 1-90, "^[-\w\._\(\)]+$"; [NAMES] Microsoft.Resources
    # resourcegroups: "Can't end with period."
    "resource_group": Rule("a resource group name", re.compile(r"[-\w.()]*[-\w()]"), 1, 90,
                           "use 1-90 letters, digits, hyphens, underscores, periods and parentheses,"
                           " not ending with a period"),
    # [CS] deploymentNameParameter has no pattern; the pattern of its siblings. Length: Azure answers
    # "Resource name can only include alphanumeric characters, underscores and hyphens" for a `/`
    # (8monkey-ai/hebo-platform#489) and "Account name only allows 2 to 64 characters" for accounts
    # (microsoft/microsoft-foundry-for-vscode#70); UNVERIFIED that deployments share the 2-64.
    # Periods are kept: deployments named after models (gpt-4.1) are common (microsoft/aspire#17495).
    "deployment": Rule("a deployment name", re.compile(_CHILD), 2, 64, "use 2-64 " + _CHILD_WORDS),
    # [CS] raiPolicyNameParameter; no length given: 64 like accounts (UNVERIFIED).
    "rai_policy": Rule("a content filter (RAI policy) name", re.compile(_CHILD), 1, 64, "use 1-64 " + _CHILD_WORDS),
    # [CS] raiBlocklistNameParameter ([BL] also names "~", which the REST pattern does not allow);
    # no length given: 64 like accounts (UNVERIFIED).
    "blocklist": Rule("a blocklist name", re.compile(_CHILD), 1, 64, "use 1-64 " + _CHILD_WORDS),
    # [BL] a blocklist term travels in the request body ({"pattern": ...}), never in a URL.
    "blocklist_item": Rule("a blocklist item", re.compile(r".+", re.DOTALL), 1, MAX_BLOCKLIST_ITEM,
                           "use 1-1000 characters", in_path=False, printable=False),
    # [NAMES] Microsoft.KeyVault vaults: 3-24, "Alphanumerics and hyphens. Start with letter. End with
    # letter or digit. Can't contain consecutive hyphens."; [KV] vaultName "^[a-zA-Z0-9-]{3,24}$".
    "key_vault": Rule("a Key Vault name", re.compile(r"(?!.*--)[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?"), 3, 24,
                      "use 3-24 letters, digits and single hyphens, starting with a letter and ending with a"
                      " letter or digit"),
    # [KV] secretName "^[a-zA-Z0-9-]{1,127}$"; [NAMES] vaults / secrets: 1-127, "Alphanumerics and hyphens."
    "secret": Rule("a Key Vault secret name", re.compile(r"[A-Za-z0-9-]+"), 1, 127,
                   "use 1-127 letters, digits and hyphens"),
    # [NAMES] Microsoft.Network privateEndpoints: 2-64, "Alphanumerics, underscores, periods, and hyphens.
    # Start with alphanumeric. End alphanumeric or underscore."
    "private_endpoint": Rule("a private endpoint name", re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"),
                             2, 64, "use 2-64 letters, digits, underscores, periods and hyphens, starting with a"
                                    " letter or digit and ending with a letter, digit or underscore"),
    # Microsoft.Insights diagnosticSettings: [NAMES] gives no rule; Azure refuses < > * % & : \ ? + /
    # (UNVERIFIED); this is a safe subset, and 1-260 characters.
    "diagnostic_setting": Rule("a diagnostic setting name", re.compile(_CHILD), 1, 260, "use 1-260 " + _CHILD_WORDS),
    # [ARM] SubscriptionIdParameter: "The value must be an UUID."
    "subscription": Rule("a subscription id", re.compile(
        r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"), 36, 36,
        "use a GUID such as 00000000-0000-0000-0000-000000000000"),
    # Shape only (Azure's list of regions changes): "eastus2", or a display name like "East US 2".
    "location": Rule("a location", re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*"), 1, 64,
                     "use a region name such as eastus2: 1-64 letters and digits, words separated by single spaces"),
    # The spec name becomes the value of the provision-spec tag on everything provision creates:
    # a tag value of at most 256 characters [TAGS]; printable, without surrounding spaces, because
    # ownership compares it exactly.
    "spec_name": Rule("a spec name", re.compile(r"\S(?:.*\S)?"), 1, MAX_TAG_VALUE,
                      "use 1-256 printable characters without leading or trailing spaces (it becomes the"
                      " provision-spec tag value)",
                      in_path=False),
}


def problem(kind: str, name: str) -> str | None:
    """Why `name` is not a valid name of `kind` (a key of RULES), as a sentence; None if it is valid."""
    rule = RULES[kind]
    if not isinstance(name, str):
        return f"{rule.what} must be text"
    if len(name) > rule.max_length:
        return (f"{shown(name)} is not valid as {rule.what}: it has {len(name)} characters,"
                f" Azure allows at most {rule.max_length}")
    unsafe = rule.in_path and path_segment_problem(name) is not None
    unprintable = rule.printable and not is_printable(name)
    if len(name) < rule.min_length or unsafe or unprintable or not rule.pattern.fullmatch(name):
        return f"{shown(name)} is not valid as {rule.what}: {rule.rule}"
    return None


def path_segment_problem(name: str) -> str | None:
    """Why `name`, put into a URL path as one segment, would not address exactly itself; None if it would.

    Only safety, not Azure's style rules: for names read back from Azure, which
    may predate today's rules, before they go into a request of their own.
    """
    if not name or name in (".", ".."):
        return f"{shown(name)} is not a name: it would address the resource above (dot segments are removed)"
    if name.endswith("."):  # some HTTP stacks drop a trailing period: `a.` would address `a`
        return f"{shown(name)} ends with a period, which some servers drop from a URL"
    if (found := _ADDRESS_CHANGING.search(name)) is not None:
        return f"{shown(name)} contains {shown(found.group())}, which would change the address of the request"
    if not is_printable(name) or name != name.strip():
        return f"{shown(name)} has unprintable characters or surrounding spaces"
    return None


def tag_name_problem(name: str) -> str | None:
    """Why `name` cannot be a tag name [TAGS], or None."""
    if not name:
        return "a tag name cannot be empty"
    if len(name) > MAX_TAG_NAME:
        return f"tag name {shown(name)} has {len(name)} characters; Azure allows at most {MAX_TAG_NAME}"
    forbidden = sorted({c for c in name if c in FORBIDDEN_IN_TAG_NAMES})
    if forbidden:
        return (f"tag name {shown(name)} contains {' '.join(forbidden)}; Azure tag names cannot contain"
                f" {' '.join(FORBIDDEN_IN_TAG_NAMES)}")
    if not is_printable(name) or name != name.strip():
        return f"tag name {shown(name)} must be printable text without leading or trailing spaces"
    return None


def tag_value_problem(name: str, value: str) -> str | None:
    """Why `value` cannot be the value of tag `name` [TAGS], or None."""
    if len(value) > MAX_TAG_VALUE:
        return f"the value of tag {shown(name)} has {len(value)} characters; Azure allows at most {MAX_TAG_VALUE}"
    return None


def tag_count_problem(tags: Mapping[str, str]) -> str | None:
    """Why a resource cannot carry `tags` (the user's, before provision adds its own), or None."""
    count = len({name.lower() for name in tags})  # tag names are case-insensitive [TAGS]
    if count > MAX_USER_TAGS:
        return (f"{count} tags on one resource; Azure allows {MAX_TAGS} and provision adds up to"
                f" {PROVISION_TAGS} of its own, so at most {MAX_USER_TAGS}")
    return None


def shown(text: str, limit: int = 40) -> str:
    """`text` quoted for a one-line message: what is not printable escaped, long text shortened."""
    escaped = "".join(_escape(c) for c in text[:limit])
    return f"'{escaped}…'" if len(text) > limit else f"'{escaped}'"


def _escape(character: str) -> str:
    if character.isprintable():
        return character
    if character in "\n\r\t":
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}[character]
    return f"\\u{ord(character):04x}" if ord(character) > 0xFF else f"\\x{ord(character):02x}"


def is_printable(text: str) -> bool:
    """No control, format or separator characters other than the space (line breaks, bidi overrides, NUL...)."""
    return text.isprintable()
