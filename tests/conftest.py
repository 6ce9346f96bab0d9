"""Shared fixtures: an in-memory emulator per test and real SDK clients pointed at it."""
from __future__ import annotations

import pytest
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import Emulator
from provisioner.errors import ProvisionerError

SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"


@pytest.fixture(autouse=True)
def never_real_azure(monkeypatch):
    """No test may reach real Azure (or probe for its credentials, which contacts the instance
    metadata service): a command that would is an error instead."""
    from provisioner.azure import clients as connections  # provision's own connection factory, not an SDK client

    real = connections.azure_connection

    def loopback_only(cloud: str = "public", **options):
        if cloud.startswith(("https://127.0.0.1:", "https://localhost:")):
            return real(cloud, **options)  # an emulator, reached the way a private cloud is
        raise ProvisionerError("tests never use real Azure: pass --emulator or set PROVISION_EMULATOR_*")

    monkeypatch.setattr(connections, "azure_connection", loopback_only)


@pytest.fixture
def emulator():
    with Emulator() as emu:
        yield emu


def sdk_kwargs(emu: Emulator) -> dict:
    # No retries in tests: every request the test makes is one request on the wire.
    return {"base_url": emu.base_url, "connection_verify": emu.ca_path, "retry_total": 0,
            "polling_interval": 0}


@pytest.fixture
def resources(emulator):
    return ResourceManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def cognitive(emulator):
    return CognitiveServicesManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def keyvault(emulator):
    return KeyVaultManagementClient(emulator.credential, SUBSCRIPTION, **sdk_kwargs(emulator))


@pytest.fixture
def account(resources, cognitive):
    """A resource group 'rg' with a Succeeded OpenAI account 'acct' in eastus."""
    resources.resource_groups.create_or_update("rg", {"location": "eastus"})
    return cognitive.accounts.begin_create(
        "rg", "acct", {"kind": "OpenAI", "sku": {"name": "S0"}, "location": "eastus",
                       "properties": {"customSubDomainName": "acct"}}).result()
