"""RAI (content filter) policies, custom blocklists and their items, and the filter catalog.

Policies and blocklists are account children: every write goes through
`accounts.writable_account` (one write at a time per account). PUTs answer at
once (200/201, not LROs); deletes answer 202 + operation headers while the
configured duration runs (locking the account), else 204.
"""
from __future__ import annotations

import re

from provisioner.emulator import lro, schemas
from provisioner.emulator.arm import (
    Call,
    Reply,
    Router,
    list_reply,
    new_etag,
    system_data,
)
from provisioner.emulator.errors import ArmError, not_found
from provisioner.emulator.providers.accounts import (
    ACCOUNT,
    NAMESPACE,
    require_account,
    writable_account,
)

POLICY_TYPE = "Microsoft.CognitiveServices/accounts/raiPolicies"
BLOCKLIST_TYPE = "Microsoft.CognitiveServices/accounts/raiBlocklists"
ITEM_TYPE = "Microsoft.CognitiveServices/accounts/raiBlocklists/raiBlocklistItems"
DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"
FILTER_TYPE = "Microsoft.CognitiveServices/locations/raiContentFilters"

POLICY = ACCOUNT + "/raipolicies/{policy}"
BLOCKLIST = ACCOUNT + "/raiblocklists/{blocklist}"
ITEM = BLOCKLIST + "/raiblocklistitems/{item}"
FILTERS = "/subscriptions/{subscription}/providers/microsoft.cognitiveservices/locations/{location}/raicontentfilters"

NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")  # the SDK's path pattern for all three names
INVALID_FILTER = "Resource has invalid content filter"  # Azure's code, spaces included (ARM-FACTS §3)
INVALID_BLOCKLIST = "Resource has invalid blocklist reference"  # likewise [ISSUE Azure/bicep-types-az#2432]
BASE_POLICIES = ("Microsoft.Default", "Microsoft.DefaultV2")
MODES = ("Default", "Deferred", "Blocking", "Asynchronous_filter")
SOURCES = ("Prompt", "Completion")
LEVELS = ("Low", "Medium", "High")

# The raiContentFilters catalog (ListRaiContentFilters example): id, display name, multi-level, only source.
CONTENT_FILTERS = [
    ("Hate", "Hate", True, None),
    ("Sexual", "Sexual", True, None),
    ("Violence", "Violence", True, None),
    ("Selfharm", "Selfharm", True, None),
    ("Jailbreak", "Jailbreak", False, "Prompt"),
    ("ProtectedMaterialText", "Protected Material Text", False, "Completion"),
    ("ProtectedMaterialCode", "Protected Material Code", False, "Completion"),
    ("Profanity", "Profanity", False, None),
    ("IndirectAttack", "Indirect Attack", False, "Prompt"),
]


def filter_key(name: str) -> str:
    """Filter names compare without case, spaces, underscores or hyphens: "Protected Material Code" (the
    policy examples), "ProtectedMaterialCode" (the filter catalog's ids) and "protected_material_code"
    name one filter."""
    return re.sub(r"[\s_-]", "", name).lower()


FILTERS_BY_NAME = {filter_key(key): (display, multi, source)
                   for filter_id, display, multi, source in CONTENT_FILTERS for key in (filter_id, display)}


def register(router: Router) -> None:
    router.add("GET", ACCOUNT + "/raipolicies")(list_policies)
    router.add("PUT", POLICY)(put_policy)
    router.add("GET", POLICY)(get_policy)
    router.add("DELETE", POLICY)(delete_policy)
    router.add("GET", ACCOUNT + "/raiblocklists")(list_blocklists)
    router.add("PUT", BLOCKLIST)(put_blocklist)
    router.add("GET", BLOCKLIST)(get_blocklist)
    router.add("DELETE", BLOCKLIST)(delete_blocklist)
    router.add("POST", BLOCKLIST + "/addraiblocklistitems")(add_items)
    router.add("POST", BLOCKLIST + "/deleteraiblocklistitems")(delete_items)
    router.add("GET", BLOCKLIST + "/raiblocklistitems")(list_items)
    router.add("PUT", ITEM)(put_item)
    router.add("GET", ITEM)(get_item)
    router.add("DELETE", ITEM)(delete_item)
    router.add("GET", FILTERS)(list_content_filters)
    router.add("GET", FILTERS + "/{filter}")(get_content_filter)


# ids: the account's id plus a suffix (the deployments provider looks policies up by this id and type)
def policy_id(account_id: str, name: str) -> str:
    return f"{account_id}/raiPolicies/{name}"


def blocklist_id(account_id: str, name: str) -> str:
    return f"{account_id}/raiBlocklists/{name}"


def item_id(account_id: str, blocklist: str, name: str) -> str:
    return f"{blocklist_id(account_id, blocklist)}/raiBlocklistItems/{name}"


def is_builtin(name: str) -> bool:
    return name.lower() in {b.lower() for b in BASE_POLICIES}


# helpers shared by the three resources
def _check_name(name: str) -> None:
    if not NAME.match(name):
        raise ArmError(400, "InvalidResourceName",
                       f"Resource name '{name}' is invalid. The name must start with a letter or digit and "
                       "contain only letters, digits, underscores, periods and hyphens.")


def _properties(call: Call, resource_type: str) -> tuple[dict, dict]:
    """The body, as the API's model reads it (schemas.clean), and its `properties` object."""
    body = schemas.clean(resource_type, call.json_body())
    return body, body.get("properties", {})


def _malformed() -> ArmError:
    return ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")


def _store_child(call: Call, resource_id: str, resource_type: str, name: str, body: dict,
                 properties: dict) -> Reply:
    """Create (201) or replace (200) a child document; PUT replaces tags and properties."""
    existing = call.store.get(resource_id)
    doc = {"id": existing["id"] if existing else resource_id, "name": existing["name"] if existing else name,
           "type": resource_type, "etag": new_etag()}
    if body.get("tags") is not None:
        doc["tags"] = body["tags"]
    doc["properties"] = properties
    doc["systemData"] = system_data(call.now, existing.get("systemData") if existing else None)
    call.store.put(doc["id"], resource_type, doc)
    return Reply(200 if existing else 201, doc, {"ETag": doc["etag"]})


def _delete_child(call: Call, account: dict, doc: dict, resource: str) -> Reply:
    """202 + Azure-AsyncOperation/Location while `<resource>.delete` runs (the account is locked
    meanwhile, as for deployments), or 204 at once. The SDK accepts only 202 and 204."""
    duration = call.config.duration(resource, "delete")
    if duration <= 0:
        call.store.delete(doc["id"])
        return Reply(204)
    headers = lro.start(call, resource_id=doc["id"], action="delete", duration=duration, namespace=NAMESPACE,
                        location=account["location"].upper(), lock_id=account["id"], initial_status="Deleting")
    return Reply(202, None, headers)


def _require(call: Call, resource_id: str, resource_type: str, name: str) -> dict:
    doc = call.store.get(resource_id)
    if doc is None:
        raise not_found(resource_type, name, call.params["group"])
    return doc


# RAI policies
def builtin_policy(account_id: str, name: str) -> dict:
    """Microsoft.Default / Microsoft.DefaultV2 as every account lists them. Their exact filters and
    mode are UNVERIFIED: the four harm filters at Medium on both sides; V2 adds jailbreak and
    protected material (code annotated only)."""
    name = next(b for b in BASE_POLICIES if b.lower() == name.lower())
    filters = [{"name": f, "blocking": True, "enabled": True, "severityThreshold": "Medium", "source": s}
               for f in ("Hate", "Sexual", "Selfharm", "Violence") for s in SOURCES]
    if name == "Microsoft.DefaultV2":
        filters += [{"name": "Jailbreak", "blocking": True, "enabled": True, "source": "Prompt"},
                    {"name": "Protected Material Text", "blocking": True, "enabled": True, "source": "Completion"},
                    {"name": "Protected Material Code", "blocking": False, "enabled": True, "source": "Completion"}]
    return {"id": policy_id(account_id, name), "name": name, "type": POLICY_TYPE,
            "properties": {"mode": "Blocking", "contentFilters": filters, "type": "SystemManaged"}}


def list_policies(call: Call) -> Reply:
    account = require_account(call)
    builtins = [builtin_policy(account["id"], name) for name in BASE_POLICIES]
    return list_reply(builtins + call.store.children(account["id"], POLICY_TYPE))


def get_policy(call: Call) -> Reply:
    account = require_account(call)
    name = call.params["policy"]
    if is_builtin(name):
        return Reply(200, builtin_policy(account["id"], name))
    doc = _require(call, policy_id(account["id"], name), POLICY_TYPE, name)
    return Reply(200, doc, {"ETag": doc["etag"]})


def put_policy(call: Call) -> Reply:
    account = writable_account(call)
    name = call.params["policy"]
    if is_builtin(name):
        raise ArmError(400, "BadRequest", f"The system managed RAI policy '{name}' cannot be created or updated.")
    _check_name(name)
    body, properties = _properties(call, POLICY_TYPE)
    _validate_policy(call, account, properties)
    properties = {**properties, "type": "UserManaged"}
    return _store_child(call, policy_id(account["id"], name), POLICY_TYPE, name, body, properties)


def _validate_policy(call: Call, account: dict, properties: dict) -> None:
    base = properties.get("basePolicyName")
    if not isinstance(base, str) or base.lower() not in {b.lower() for b in BASE_POLICIES}:
        raise _invalid(f"basePolicyName must be one of {', '.join(BASE_POLICIES)}, not '{base}'.")
    mode = properties.get("mode")
    if mode is not None and not _one_of(mode, MODES):
        raise _invalid(f"mode must be one of {', '.join(MODES)}, not '{mode}'.")
    filters = properties.get("contentFilters") or []
    blocklists = properties.get("customBlocklists") or []
    if not isinstance(filters, list) or not isinstance(blocklists, list):
        raise _malformed()
    seen: set[tuple[str, str]] = set()
    for entry in filters:
        if not isinstance(entry, dict):
            raise _malformed()
        _validate_filter(entry, seen)
    for entry in blocklists:
        if not isinstance(entry, dict):
            raise _malformed()
        _validate_blocklist_config(call, account, entry)


def _validate_filter(entry: dict, seen: set[tuple[str, str]]) -> None:
    given = entry.get("name")
    known = FILTERS_BY_NAME.get(filter_key(given)) if isinstance(given, str) else None
    if known is None:
        raise _invalid(f"Content filter '{given}' is not a known filter. Known filters: "
                       f"{', '.join(display for _, display, _, _ in CONTENT_FILTERS)}.")
    display, multi_level, only_source = known
    source = entry.get("source")
    if not _one_of(source, SOURCES):
        raise _invalid(f"Content filter '{display}' needs a source of Prompt or Completion, not '{source}'.")
    if only_source and source.lower() != only_source.lower():
        raise _invalid(f"Content filter '{display}' only applies to source '{only_source}', not '{source}'.")
    for flag in ("blocking", "enabled"):
        if not isinstance(entry.get(flag), bool):
            raise _invalid(f"Content filter '{display}' ({source}) needs '{flag}' to be true or false.")
    threshold = entry.get("severityThreshold")
    if multi_level and not _one_of(threshold, LEVELS):
        raise _invalid(f"Content filter '{display}' ({source}) needs a severityThreshold of Low, Medium or High, "
                       f"not '{threshold}'.")
    key = (display, source.lower())
    if key in seen:
        raise _invalid(f"Content filter '{display}' ({source}) is given more than once.")
    seen.add(key)


def _validate_blocklist_config(call: Call, account: dict, entry: dict) -> None:
    name = entry.get("blocklistName")
    if not isinstance(name, str) or call.store.get(blocklist_id(account["id"], name)) is None:
        # Code and message as the title of Azure/bicep-types-az#2432 quotes them (the body was not seen).
        raise ArmError(400, INVALID_BLOCKLIST, "One or more of blocklists referenced in this policy are invalid.")
    source = entry.get("source")
    if not _one_of(source, SOURCES):
        raise _invalid(f"Custom blocklist '{name}' needs a source of Prompt or Completion, not '{source}'.")
    if "blocking" in entry and not isinstance(entry["blocking"], bool):
        raise _invalid(f"Custom blocklist '{name}' needs 'blocking' to be true or false.")


def _one_of(value, allowed: tuple[str, ...]) -> bool:
    # The SDK's enums are case-insensitive; so is the emulator.
    return isinstance(value, str) and value.lower() in {a.lower() for a in allowed}


def _invalid(message: str) -> ArmError:
    return ArmError(400, INVALID_FILTER, message)


def delete_policy(call: Call) -> Reply:
    account = writable_account(call)
    name = call.params["policy"]
    if is_builtin(name):
        raise ArmError(400, "BadRequest", f"The system managed RAI policy '{name}' cannot be deleted.")
    doc = call.store.get(policy_id(account["id"], name))
    if doc is None:
        return Reply(204)
    # Azure's answer to deleting a policy a deployment still uses is UNVERIFIED (ARM-FACTS §3):
    # the emulator refuses with 409 RaiPolicyInUse rather than leave deployments pointing nowhere.
    users = [d["name"] for d in call.store.children(account["id"], DEPLOYMENT_TYPE)
             if str((d.get("properties") or {}).get("raiPolicyName", "")).lower() == name.lower()]
    if users:
        raise ArmError(409, "RaiPolicyInUse",
                       f"The RAI policy '{doc['name']}' is used by deployment(s) {', '.join(users)} of account "
                       f"'{account['name']}'. Change their raiPolicyName before deleting it.")
    return _delete_child(call, account, doc, "raiPolicies")


# RAI blocklists
def list_blocklists(call: Call) -> Reply:
    account = require_account(call)
    return list_reply(call.store.children(account["id"], BLOCKLIST_TYPE))


def get_blocklist(call: Call) -> Reply:
    account = require_account(call)
    name = call.params["blocklist"]
    doc = _require(call, blocklist_id(account["id"], name), BLOCKLIST_TYPE, name)
    return Reply(200, doc, {"ETag": doc["etag"]})


def put_blocklist(call: Call) -> Reply:
    account = writable_account(call)
    name = call.params["blocklist"]
    _check_name(name)
    body, properties = _properties(call, BLOCKLIST_TYPE)
    return _store_child(call, blocklist_id(account["id"], name), BLOCKLIST_TYPE, name, body, dict(properties))


def delete_blocklist(call: Call) -> Reply:
    account = writable_account(call)
    name = call.params["blocklist"]
    doc = call.store.get(blocklist_id(account["id"], name))
    if doc is None:
        return Reply(204)
    # A policy naming a missing blocklist is invalid on PUT, so deleting one in use is refused too (UNVERIFIED).
    users = [p["name"] for p in call.store.children(account["id"], POLICY_TYPE)
             if any(str(b.get("blocklistName", "")).lower() == name.lower()
                    for b in p["properties"].get("customBlocklists") or [])]
    if users:
        raise ArmError(409, "RaiBlocklistInUse",
                       f"The RAI blocklist '{doc['name']}' is used by RAI policy(ies) {', '.join(users)} of "
                       f"account '{account['name']}'. Remove it from their customBlocklists before deleting it.")
    return _delete_child(call, account, doc, "raiBlocklists")  # its items go with it


# RAI blocklist items
def _require_blocklist(call: Call, account: dict) -> dict:
    name = call.params["blocklist"]
    return _require(call, blocklist_id(account["id"], name), BLOCKLIST_TYPE, name)


def _item_properties(properties: dict, name: str) -> dict:
    pattern, is_regex = properties.get("pattern"), properties.get("isRegex", False)
    if not isinstance(pattern, str) or not pattern:
        raise ArmError(400, "BadRequest", f"Blocklist item '{name}' needs a non-empty 'pattern'.")
    if not isinstance(is_regex, bool):
        raise _malformed()
    if is_regex:
        try:
            re.compile(pattern)  # Python's dialect stands in for the service's
        except re.error as error:
            raise ArmError(400, "BadRequest",
                           f"Blocklist item '{name}' has an invalid regular expression '{pattern}': {error}.") from None
    return {**properties, "pattern": pattern, "isRegex": is_regex}


def list_items(call: Call) -> Reply:
    account = require_account(call)
    blocklist = _require_blocklist(call, account)
    return list_reply(call.store.children(blocklist["id"], ITEM_TYPE))


def get_item(call: Call) -> Reply:
    account = require_account(call)
    blocklist = _require_blocklist(call, account)
    name = call.params["item"]
    doc = _require(call, item_id(account["id"], blocklist["name"], name), ITEM_TYPE, name)
    return Reply(200, doc, {"ETag": doc["etag"]})


def put_item(call: Call) -> Reply:
    account = writable_account(call)
    blocklist = _require_blocklist(call, account)
    name = call.params["item"]
    _check_name(name)
    body, properties = _properties(call, ITEM_TYPE)
    properties = _item_properties(properties, name)
    return _store_child(call, item_id(account["id"], blocklist["name"], name), ITEM_TYPE, name, body, properties)


def delete_item(call: Call) -> Reply:
    account = writable_account(call)
    blocklist = _require_blocklist(call, account)
    doc = call.store.get(item_id(account["id"], blocklist["name"], call.params["item"]))
    if doc is None:
        return Reply(204)
    return _delete_child(call, account, doc, "raiBlocklistItems")


def add_items(call: Call) -> Reply:
    """Bulk add: body [{"name", "properties": {"pattern", "isRegex"}}]; all or nothing; 200 with the blocklist."""
    account = writable_account(call)
    blocklist = _require_blocklist(call, account)
    entries = call.body
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _malformed()
    checked = []
    for entry in entries:
        name = entry.get("name")
        if not isinstance(name, str):
            raise _malformed()
        _check_name(name)
        properties = entry.get("properties")
        if not isinstance(properties, dict):
            raise _malformed()
        checked.append((name, _item_properties(properties, name)))
    for name, properties in checked:
        _store_child(call, item_id(account["id"], blocklist["name"], name), ITEM_TYPE, name, {}, properties)
    return Reply(200, blocklist)


def delete_items(call: Call) -> Reply:
    """Bulk delete: body ["item", ...]; names that do not exist are ignored; 204."""
    account = writable_account(call)
    blocklist = _require_blocklist(call, account)
    names = call.body
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise _malformed()
    for name in names:
        call.store.delete(item_id(account["id"], blocklist["name"], name))
    return Reply(204)


# the content filter catalog
def _content_filter(call: Call, filter_id: str, display: str, multi_level: bool, source: str | None) -> dict:
    p = call.params
    properties: dict = {"name": display, "isMultiLevelFilter": multi_level}
    if source:
        properties["source"] = source
    return {"id": f"/subscriptions/{p['subscription']}/providers/{NAMESPACE}/locations/{p['location']}"
                  f"/raiContentFilters/{filter_id}",
            "type": FILTER_TYPE, "name": filter_id, "properties": properties}


def list_content_filters(call: Call) -> Reply:
    return list_reply([_content_filter(call, *entry) for entry in CONTENT_FILTERS])


def get_content_filter(call: Call) -> Reply:
    wanted = call.params["filter"].lower()
    for entry in CONTENT_FILTERS:
        if entry[0].lower() == wanted:
            return Reply(200, _content_filter(call, *entry))
    raise not_found(FILTER_TYPE, call.params["filter"])
