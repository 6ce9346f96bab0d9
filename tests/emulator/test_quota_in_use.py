"""Quota in use is kept as aggregates updated on every deployment write: they must always equal a
count of the stored deployments (the definition), across updates, deletes, cascades, processes
sharing one state file, and states written before the aggregates existed."""
from __future__ import annotations

import sqlite3

from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import Emulator
from provisioner.emulator.arm import normalize_location
from provisioner.emulator.catalog import Catalog
from provisioner.emulator.quota import deployment_usage, in_use
from provisioner.emulator.store import key_of
from tests.conftest import SUBSCRIPTION, sdk_kwargs

ACCOUNT_TYPE = "Microsoft.CognitiveServices/accounts"
DEPLOYMENT_TYPE = "Microsoft.CognitiveServices/accounts/deployments"


def counted(store, catalog, region: str, account_id: str | None = None) -> dict[str, int]:
    """The definition, by brute force: every stored deployment of the region's accounts."""
    accounts = {key_of(a["id"]): normalize_location(a["location"])
                for a in store.under(f"/subscriptions/{SUBSCRIPTION}", ACCOUNT_TYPE)}
    totals: dict[str, int] = {}
    for doc in store.under(f"/subscriptions/{SUBSCRIPTION}", DEPLOYMENT_TYPE):
        parent = key_of(doc["id"]).rsplit("/deployments/", 1)[0]
        if accounts.get(parent) != region or (account_id and parent != key_of(account_id)):
            continue
        usage = deployment_usage(catalog, region, doc)
        if usage:
            totals[usage] = totals.get(usage, 0) + doc["sku"]["capacity"]
    return totals


def clients(emu: Emulator):
    return (ResourceManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu)),
            CognitiveServicesManagementClient(emu.credential, SUBSCRIPTION, **sdk_kwargs(emu)))


def make_account(resources, cognitive, name: str, location: str = "eastus", group: str = "rg") -> str:
    resources.resource_groups.create_or_update(group, {"location": location})
    return cognitive.accounts.begin_create(group, name, {
        "kind": "OpenAI", "sku": {"name": "S0"}, "location": location,
        "properties": {"customSubDomainName": name}}).result().id


def deploy(cognitive, account: str, name: str, capacity: int, model="gpt-35-turbo", version="0125",
           sku="Standard", group: str = "rg") -> None:
    cognitive.deployments.begin_create_or_update(group, account, name, {
        "sku": {"name": sku, "capacity": capacity},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": version}}}).result()


def assert_agrees(emu: Emulator, account_ids=()) -> dict[str, int]:
    store, catalog = emu.app.store, Catalog.load()
    with store.transaction():
        for region in ("eastus", "swedencentral"):
            assert in_use(store, catalog, SUBSCRIPTION, region) == counted(store, catalog, region)
            for account_id in account_ids:
                assert in_use(store, catalog, SUBSCRIPTION, region, account_id=account_id) == \
                    counted(store, catalog, region, account_id)
        return in_use(store, catalog, SUBSCRIPTION, "eastus")


def test_in_use_follows_every_write_delete_and_cascade(emulator):
    resources, cognitive = clients(emulator)
    one = make_account(resources, cognitive, "agg-one")
    two = make_account(resources, cognitive, "agg-two")
    sweden = make_account(resources, cognitive, "agg-se", "swedencentral", group="rg-se")
    deploy(cognitive, "agg-one", "a", 5)
    deploy(cognitive, "agg-one", "b", 7)
    deploy(cognitive, "agg-two", "a", 11)
    deploy(cognitive, "agg-two", "emb", 3, model="text-embedding-3-large", version="1")
    deploy(cognitive, "agg-se", "a", 13, group="rg-se")
    totals = assert_agrees(emulator, (one, two, sweden))
    assert sum(totals.values()) == 5 + 7 + 11 + 3 and len(totals) == 2
    deploy(cognitive, "agg-one", "a", 2)  # an update replaces its old capacity
    deploy(cognitive, "agg-two", "emb", 4, model="text-embedding-3-large", version="1")
    assert sum(assert_agrees(emulator, (one, two, sweden)).values()) == 2 + 7 + 11 + 4
    cognitive.deployments.begin_delete("rg", "agg-one", "b").result()
    assert sum(assert_agrees(emulator, (one, two)).values()) == 2 + 11 + 4
    cognitive.accounts.begin_delete("rg", "agg-two").result()  # its deployments go with it
    assert sum(assert_agrees(emulator, (one,)).values()) == 2
    resources.resource_groups.begin_delete("rg").result()  # and with a whole group
    assert assert_agrees(emulator) == {}
    with emulator.app.store.transaction():
        assert sum(in_use(emulator.app.store, Catalog.load(), SUBSCRIPTION, "swedencentral").values()) == 13


def test_processes_sharing_a_state_file_agree(tmp_path):
    state = tmp_path / "shared.sqlite"
    with Emulator(state) as first, Emulator(state) as second:
        resources, cognitive = clients(first)
        make_account(resources, cognitive, "agg-shared")
        deploy(cognitive, "agg-shared", "a", 9)
        _, other = clients(second)
        deploy(other, "agg-shared", "b", 4)  # written through the other server, on its own connection
        for emu in (first, second):
            assert sum(assert_agrees(emu).values()) == 13


def test_a_state_written_before_the_aggregates_is_counted_when_opened(tmp_path):
    state = tmp_path / "old.sqlite"
    with Emulator(state) as emu:
        resources, cognitive = clients(emu)
        make_account(resources, cognitive, "agg-old")
        deploy(cognitive, "agg-old", "a", 6)
        deploy(cognitive, "agg-old", "b", 8)
    with sqlite3.connect(state) as db:  # as an older emulator left it: no aggregates at all
        db.executescript("DROP TRIGGER capacity_insert; DROP TRIGGER capacity_update; DROP TRIGGER capacity_delete;"
                         "DROP TABLE deployment_capacity; DROP TABLE capacity_in_use;")
    with Emulator(state) as emu:
        assert sum(assert_agrees(emu).values()) == 14
        _, cognitive = clients(emu)
        deploy(cognitive, "agg-old", "a", 1)
        assert sum(assert_agrees(emu).values()) == 9
