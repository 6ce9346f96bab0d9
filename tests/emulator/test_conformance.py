"""Conformance: replay real recorded Azure sessions against the emulator, request by request.

The cassettes in tests/fixtures/recordings/ are azure-cli vcrpy recordings of real
Azure Resource Manager traffic (see the README there). For each cassette an in-memory
emulator (operations complete at once) is started, the resource groups the recording
used are created first (setup, not compared), and every recorded request is sent to the
emulator with httpx. For each interaction:

* the HTTP status code must equal the recorded one;
* every field of the recorded JSON body must exist in the emulator's body with the same
  JSON type (object, array, string, number, boolean). Values may differ (ids, names,
  timestamps, keys, etags). A recorded null matches anything. For arrays the first
  element's shape is compared; for `value` arrays (lists) recorded items are matched to
  the emulator's by `name` (`name.value` for usages; `kind` and `version` decide between
  items of the same name), and
  when no name matches, the first items are compared;
* an `Azure-AsyncOperation` / `Location` header the recording has must be there too.

Mapping: the host https://management.azure.com becomes the emulator's base URL. Names
(subscription, group, account) stay as recorded: the emulator takes any subscription.
Server-made URLs (operationResults with their signed query strings) are mapped: the
recorded header value -> the emulator's header value from the replayed response, and a
later request whose recorded URI starts with a recorded URL goes to the emulator's.

Polling: a recording may poll one operation several times ("Creating" ... "Succeeded");
with instant operations the emulator says "Succeeded" at once. Of a run of identical
polls only the last one's body is compared (shape, and its terminal `status` value);
the earlier ones are replayed and only their status codes compared.

Known, deliberate differences are listed in DEVIATIONS, keyed by (cassette, interaction
index), with the mismatch paths they excuse and the reason; the same table is in the
emulator's README section. A deviation that no longer excuses anything fails the test,
so the table cannot go stale. All mismatches of a cassette are reported at once.
"""
from __future__ import annotations

import json
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from provisioner.emulator import Emulator

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "recordings"
CASSETTES = sorted(p.name for p in FIXTURES.glob("*.yaml"))
AZURE = "https://management.azure.com"
LRO_HEADERS = ("azure-asyncoperation", "location")
GROUP_API_VERSION = "2024-11-01"
GROUP_IN_URI = re.compile(r"/subscriptions/([^/?]+)/resourceGroups/([^/?]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Deviation:
    """A known difference: `excuses` are the mismatch paths this interaction may show ("*" stands
    for any text; "status" is the status code, "headers.<name>" a header)."""

    excuses: tuple[str, ...]
    reason: str


LIST_MODELS = "test_cognitiveservices_list_models.TRIMMED-40.yaml"
MODEL = "test_cognitiveservices_model.yaml"
SOFTDELETE = "test_cognitiveservices_softdelete.2021-commit-3d393065.yaml"
RETIRED_SINCE_2023 = ("ada", "babbage", "curie", "davinci")

DEVIATIONS: dict[tuple[str, int], Deviation] = {
    (LIST_MODELS, 0): Deviation(
        ("$.value[*].model.skus[0].costs",),
        "The emulator's catalog drops skus[].costs (billing meter ids and units, about 40% of the real "
        "catalog's size): nothing in the control plane depends on them, and the SDK's ModelSku reads `cost`, "
        "so SDK clients never see them (ARM-FACTS section 5)."),
    (MODEL, 5): Deviation(
        ("$.value[*].skus[0].ratelimits",)
        + tuple(f"$.value[{name}].{field}" for name in RETIRED_SINCE_2023
                for field in ("skus", "capabilities.fineTune", "finetuneCapabilities")),
        "Account models, recorded in 2023: (1) the 2023 service spelled skus[].ratelimits in lower case; the "
        "2025 service and the SDK's model spell it rateLimits, and the emulator answers as today's service for "
        "every api-version; (2) the emulator's catalog is the 2025-10-28 snapshot, in which the base models ada, "
        "babbage, curie and davinci (retired in 2024) list no SKUs and no fine-tuning capabilities."),
    (SOFTDELETE, 11): Deviation(
        ("$.value",),
        "The recorded list holds other test runs' soft-deleted accounts in the shared real subscription "
        "(other regions and groups); after the purge the emulator's subscription has none, so the list is "
        "empty and no item shape can be compared (the deletedAccounts shape is compared at interaction 5)."),
}


# --- loading -------------------------------------------------------------------------------


def load(cassette: str) -> list[dict]:
    with open(FIXTURES / cassette, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["interactions"]


def header(headers: dict, name: str) -> str | None:
    """A recorded header (vcrpy keeps lists of values), case-insensitively."""
    for key, values in (headers or {}).items():
        if key.lower() == name.lower():
            return values[0] if isinstance(values, list) else values
    return None


def parse(text: str | bytes | None) -> Any:
    if not text or not text.strip():
        return None
    return json.loads(text)


# --- shape comparison ----------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(type(value))


def _item_name(item: Any) -> str | None:
    if not isinstance(item, dict):
        return None
    name = item.get("name")
    if isinstance(name, dict):
        name = name.get("value")
    return name if isinstance(name, str) else None


def _match_by_name(recorded: dict, candidates: list) -> Any:
    name = _item_name(recorded)
    same = [c for c in candidates if name is not None and _item_name(c) == name]
    if not same:
        return None
    # names may repeat (one model per kind, one account model per version): prefer the closest
    return max(same, key=lambda c: sum(c.get(k) == recorded.get(k) for k in ("kind", "version")))


def compare(recorded: Any, actual: Any, path: str = "$") -> list[tuple[str, str]]:
    """(path, problem) for every recorded field the emulator's value lacks or types differently."""
    if recorded is None:  # a recorded null says nothing about the type
        return []
    if json_type(recorded) != json_type(actual):
        return [(path, f"is {json_type(actual)}, recorded {json_type(recorded)}")]
    problems: list[tuple[str, str]] = []
    if isinstance(recorded, dict):
        for key, value in recorded.items():
            if key not in actual:
                problems.append((f"{path}.{key}", f"missing (recorded {json_type(value)})"))
            else:
                problems += compare(value, actual[key], f"{path}.{key}")
    elif isinstance(recorded, list) and recorded:
        if not actual:
            return [(path, f"is an empty array, recorded {len(recorded)} item(s)")]
        pairs = []
        if path.endswith(".value") and all(isinstance(i, dict) for i in recorded):
            for item in recorded:
                found = _match_by_name(item, actual)
                if found is not None:
                    pairs.append((item, found, f"{path}[{_item_name(item)}]"))
        if not pairs:
            pairs = [(recorded[0], actual[0], f"{path}[0]")]
        for rec_item, act_item, item_path in pairs:
            problems += compare(rec_item, act_item, item_path)
    return problems


def excused(path: str, deviation: Deviation | None) -> bool:
    """Does the deviation excuse this mismatch path? An excuse is the whole path, where "*"
    stands for any text, e.g. "$.value[*].model.skus[0].costs"."""
    if deviation is None:
        return False
    return any(re.fullmatch(".*".join(re.escape(part) for part in excuse.split("*")), path)
               for excuse in deviation.excuses)


# --- replay --------------------------------------------------------------------------------


@dataclass
class Mismatch:
    index: int
    request: str
    path: str
    problem: str

    def __str__(self) -> str:
        return f"#{self.index} {self.request}: {self.path} {self.problem}"


def is_poll(request: dict) -> bool:
    return request["method"] == "GET" and "/operationresults/" in request["uri"].lower()


def setup_groups(client: httpx.Client, base_url: str, interactions: list[dict]) -> None:
    """Create the resource groups the recording worked in (they pre-existed in Azure)."""
    groups = {(m.group(1), m.group(2)) for i in interactions for m in GROUP_IN_URI.finditer(i["request"]["uri"])}
    for subscription, group in sorted(groups):
        response = client.put(f"{base_url}/subscriptions/{subscription}/resourcegroups/{group}",
                              params={"api-version": GROUP_API_VERSION}, json={"location": "westeurope"})
        assert response.status_code in (200, 201), response.text


def map_uri(uri: str, urls: dict[str, str], base_url: str) -> str:
    """The emulator's URI for a recorded one: server-made URLs first (longest recorded prefix),
    then the ARM host."""
    for recorded in sorted(urls, key=len, reverse=True):
        if uri.startswith(recorded):
            return urls[recorded] + uri[len(recorded):]
    if uri.startswith(AZURE):
        return base_url + uri[len(AZURE):]
    raise AssertionError(f"a request to an unknown host: {uri}")


def replay(cassette: str) -> tuple[list[Mismatch], set[tuple[str, int]]]:
    """Replay one cassette; (mismatches not excused, deviations that excused something)."""
    interactions = load(cassette)
    mismatches: list[Mismatch] = []
    used: set[tuple[str, int]] = set()
    with Emulator() as emulator:
        tls = ssl.create_default_context(cafile=emulator.ca_path)
        auth = {"Authorization": f"Bearer {emulator.token}"}
        with httpx.Client(verify=tls, headers=auth, timeout=30) as client:
            setup_groups(client, emulator.base_url, interactions)
            urls: dict[str, str] = {}
            for index, interaction in enumerate(interactions):
                request, response = interaction["request"], interaction["response"]
                label = f"{request['method']} {request['uri'].split('?')[0].replace(AZURE, '')}"
                headers = {}
                content_type = header(request.get("headers"), "Content-Type")
                if content_type:
                    headers["Content-Type"] = content_type
                body = request.get("body")
                got = client.request(request["method"], map_uri(request["uri"], urls, emulator.base_url),
                                     headers=headers, content=body.encode() if isinstance(body, str) else body)

                problems: list[tuple[str, str]] = []
                status = response["status"]["code"]
                if got.status_code != status:
                    problems.append(("status", f"{got.status_code}, recorded {status} ({got.text[:300]})"))
                for name in LRO_HEADERS:
                    recorded_url = header(response.get("headers"), name)
                    if recorded_url is None:
                        continue
                    if got.headers.get(name) is None:
                        problems.append((f"headers.{name}", "missing"))
                    else:
                        urls[recorded_url] = got.headers[name]

                next_request = interactions[index + 1]["request"] if index + 1 < len(interactions) else None
                repeated_poll = (is_poll(request) and next_request is not None
                                 and (next_request["method"], next_request["uri"]) == (request["method"], request["uri"]))
                recorded_body = parse(response["body"]["string"])
                try:
                    actual_body = parse(got.content)
                except ValueError:
                    actual_body = got.text
                if repeated_poll:
                    pass  # an earlier poll of a run: the emulator is already done (see the docstring)
                elif recorded_body is None:
                    if actual_body is not None:
                        problems.append(("$", f"recorded an empty body, emulator sent {got.text[:200]}"))
                else:
                    problems += compare(recorded_body, actual_body)
                    if is_poll(request) and isinstance(actual_body, dict) and \
                            actual_body.get("status") != recorded_body.get("status"):
                        problems.append(("$.status", f"is {actual_body.get('status')!r}, recorded "
                                                     f"{recorded_body.get('status')!r} (final poll)"))

                deviation = DEVIATIONS.get((cassette, index))
                for path, problem in problems:
                    if excused(path, deviation):
                        used.add((cassette, index))
                    else:
                        mismatches.append(Mismatch(index, label, path, problem))
    return mismatches, used


@pytest.mark.parametrize("cassette", CASSETTES)
def test_replay_matches_recording(cassette):
    mismatches, used = replay(cassette)
    stale = [f"#{index}: {DEVIATIONS[(c, index)].reason[:80]}..." for (c, index) in DEVIATIONS
             if c == cassette and (c, index) not in used]
    report = [str(m) for m in mismatches] + [f"stale deviation (excuses nothing now) {s}" for s in stale]
    assert not report, f"{cassette}: {len(report)} problem(s)\n" + "\n".join(report)


def test_every_deviation_names_a_fixture():
    assert {cassette for cassette, _ in DEVIATIONS} <= set(CASSETTES)


def test_fixtures_are_there():
    # all the shared recordings (list_models trimmed; see tests/fixtures/recordings/README.md)
    assert len(CASSETTES) == 7, CASSETTES


# --- the comparison itself -----------------------------------------------------------------


def test_compare_reports_missing_fields_and_wrong_types():
    recorded = {"a": 1, "b": {"c": "x", "d": [{"e": True}]}, "n": None, "f": 1.5}
    assert compare(recorded, {"a": 2, "b": {"c": "y", "d": [{"e": False, "extra": 1}]}, "n": 3, "f": 2}) == []
    assert compare(recorded, {"a": "2", "b": {"d": [{}]}, "n": None, "f": 1}) == [
        ("$.a", "is string, recorded number"), ("$.b.c", "missing (recorded string)"),
        ("$.b.d[0].e", "missing (recorded boolean)")]
    assert compare({"a": [1]}, {"a": []}) == [("$.a", "is an empty array, recorded 1 item(s)")]
    assert compare({"a": []}, {"a": [1]}) == []


def test_compare_matches_value_items_by_name():
    recorded = {"value": [{"name": "y", "kind": "K", "p": 1}, {"name": {"value": "u"}, "q": "s"}]}
    actual = {"value": [{"name": "x"}, {"name": "y", "kind": "J"}, {"name": "y", "kind": "K", "p": 0},
                        {"name": {"value": "u"}, "q": "t"}]}
    assert compare(recorded, actual) == []
    assert compare({"value": [{"name": "z", "p": 1}]}, {"value": [{"name": "w"}]}) == [
        ("$.value[0].p", "missing (recorded number)")]


def test_excuses_are_whole_paths_with_wildcards():
    deviation = Deviation(("$.value[*].model.skus[0].costs", "status"), "test")
    assert excused("$.value[OpenAI.gpt-4o.2024-08-06].model.skus[0].costs", deviation)
    assert excused("status", deviation)
    assert not excused("$.value[OpenAI.gpt-4o.2024-08-06].model.skus[0].name", deviation)
    assert not excused("$.value[x].model.skus[0].costs[0].unit", deviation)
    assert not excused("$.status", deviation)
    assert not excused("status", None)
