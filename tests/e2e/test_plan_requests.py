"""How many requests `plan` sends when everything exists, counted by the emulator per route.

A accounts in R regions (of one subscription and one resource group: S = G = 1), D deployments each,
one managed blocklist: the count must not depend on D at all, and is pinned exactly: per resource
group one list of its accounts, which also says whether the group exists (G), per account one list
each of deployments, RAI policies and blocklists (3A), per region one list of models and one of
usages (2R), plus the items of the one blocklist we manage. Nothing else of an existing group is
compared: its location and tags are create-only. No account here has grants or diagnostics, now or
before (no mark on it), so neither its role assignments nor its diagnostic settings are listed.
(Those cost one list each per account that has them, private endpoints two reads each, the endpoint
and its DNS zone group, and grants on a key vault one list: tests/e2e/test_security.py pins those.)
"""
from __future__ import annotations

from typing import Any

import pytest
from apply_helpers import EAST, GROUP, azure, base_spec  # noqa: F401 - azure is a fixture

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000e5"
REGIONS = ("eastus2", "swedencentral", "eastus")


def spec(accounts: int, deployments: int, regions: int) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "counts",
        "defaults": {"subscription": SUBSCRIPTION, "resource_group": "rg-counts", "location": "eastus2"},
        "content_filters": {"strict": {"mode": "blocking", "categories": {"hate": "low"},
                                       "blocklists": ["banned"]}},
        "blocklists": {"banned": {"items": ["forbidden phrase"]}},
        "accounts": [
            {"name": f"counts-{a}", "location": REGIONS[a % regions],
             "deployments": [{"name": f"d{i}", "model": "gpt-4o-mini", "version": "2024-07-18", "capacity": 1,
                              **({"content_filter": "strict"} if a == 0 and i == 0 else {})}
                             for i in range(deployments)]}
            for a in range(accounts)
        ],
    }


def expected(accounts: int, regions: int, *, groups: int = 1, blocklists: int = 1) -> int:
    return groups + 3 * accounts + 2 * regions + blocklists


@pytest.mark.parametrize("accounts, regions", [(1, 1), (20, 1), (20, 3)])  # one account is in one region
def test_plan_request_count_is_pinned_and_independent_of_deployments(workdir, cli, external_emulator,
                                                                     accounts, regions):
    for region in REGIONS:  # room for 1,000 deployments of capacity 1
        external_emulator.control.set_quota(SUBSCRIPTION, region, "OpenAI.GlobalStandard.gpt-4o-mini", 10_000)

    def plan_requests(deployments: int) -> dict:
        workdir.write(spec(accounts, deployments, regions))
        applied = cli("apply", "deployments.yaml", "--auto-approve")
        assert applied.code == 0, applied.out + applied.err
        external_emulator.control.clear_requests()
        result = cli("plan", "deployments.yaml", "--detailed-exitcode")
        assert result.code == 0, result.out + result.err  # everything exists and is up to date
        return external_emulator.control.requests()

    one = plan_requests(1)
    fifty = plan_requests(50)
    assert one["total"] == expected(accounts, regions), one
    assert fifty == one
    counts = one["counts"]
    assert not any(route.endswith("/roleassignments") or route.endswith("/diagnosticsettings")
                   for route in counts), counts
    assert not any(route.startswith("GET") and route.endswith("/accounts/{account}") for route in counts), counts
    assert not any(route.endswith("/resourcegroups") or route.endswith("/resourcegroups/{group}")
                   for route in counts), counts  # the group's list of accounts says whether it exists
    assert not any("/deployments/{deployment}" in route for route in counts), counts  # never a GET per deployment


def test_only_missing_accounts_are_looked_up_among_the_soft_deleted(workdir, cli, external_emulator):
    workdir.write(spec(3, 1, 1))
    external_emulator.control.clear_requests()
    result = cli("plan", "deployments.yaml")
    assert result.code == 0, result.out + result.err
    counts = external_emulator.control.requests()["counts"]
    deleted = [n for route, n in counts.items() if "deletedaccounts" in route.lower()]
    assert deleted == [3], counts  # all three are missing: one look-up each, and no lists of their children
    assert not any(route.endswith("/deployments") for route in counts), counts


def test_an_existing_group_elsewhere_is_used_as_it_is(azure):
    """A group's location is where its metadata lives, not where its resources must be: an existing group
    in another region holds the spec's accounts (provision uses the first account's region only to
    create a group), so nothing of an existing group is compared, and its list of accounts is enough."""
    azure.resources.resource_groups.create_or_update(GROUP, {"location": "westus"})
    spec = azure.write_spec(base_spec(EAST))  # its account is in eastus2
    result = azure.run("apply", spec, "--auto-approve")
    assert result.code == 0, result.out + result.err
    assert azure.resources.resource_groups.get(GROUP).location == "westus"
    assert azure.run("plan", spec, "--detailed-exitcode").code == 0
