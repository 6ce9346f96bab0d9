"""The only module that builds Azure SDK clients.

Two ways to reach "Azure": the real one (DefaultAzureCredential, so workload
identity federation, a service principal or `az login` all work) and an
emulator (its URL, CA file and token). azure-core's own retry policy is turned
off on purpose: `provisioner.azure.retry` is the one retry layer, and stacking
the SDK's ten retries under it would multiply waits and hide failures.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core import PipelineClient
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.policies import HeadersPolicy, UserAgentPolicy
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.keyvault import KeyVaultManagementClient
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.azure.budget import ArmBudget, ArmBudgetPolicy
from provisioner.errors import ProvisionerError

CLOUDS = {
    "public": "https://management.azure.com",
    "china": "https://management.chinacloudapi.cn",
    "usgov": "https://management.usgovcloudapi.net",
}
EMULATOR_ENV = ("PROVISION_EMULATOR_URL", "PROVISION_EMULATOR_CA", "PROVISION_EMULATOR_TOKEN_FILE")
RETAIL_PRICES_URL = "https://prices.azure.com"  # the Azure Retail Prices API: public, no credential


@dataclass(frozen=True)
class Connection:
    """Where the management API is and how to authenticate; shared by every client."""

    base_url: str
    credential: Any  # an azure.core TokenCredential
    ca_file: str | None = None  # trust this CA (the emulator's) instead of the system store
    is_emulator: bool = False
    credential_scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # the credential stays out of logs and tracebacks
        return f"Connection({self.base_url!r}, emulator={self.is_emulator})"


def azure_connection(cloud: str = "public") -> Connection:
    from azure.identity import AzureAuthorityHosts, DefaultAzureCredential

    if cloud not in CLOUDS:
        raise ProvisionerError(f"unknown cloud {cloud!r}", hint=f"use one of: {', '.join(CLOUDS)}")
    authority = {"public": AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, "china": AzureAuthorityHosts.AZURE_CHINA,
                 "usgov": AzureAuthorityHosts.AZURE_GOVERNMENT}[cloud]
    base_url = CLOUDS[cloud]
    credential = DefaultAzureCredential(authority=authority)
    try:  # once, up front: one clear error instead of one per parallel read
        credential.get_token(base_url + "/.default")
    except ClientAuthenticationError as exc:
        raise ProvisionerError(
            "could not get an Azure access token: " + str(exc).splitlines()[0],
            hint="run `az login`, set AZURE_CLIENT_ID and AZURE_TENANT_ID (with AZURE_CLIENT_SECRET or a "
                 "federated token) for a service principal, or use --emulator to try without Azure") from None
    return Connection(base_url, credential, credential_scopes=(base_url + "/.default",))


def emulator_connection(base_url: str, ca_file: str, credential: Any) -> Connection:
    return Connection(base_url.rstrip("/"), credential, ca_file=ca_file, is_emulator=True,
                      credential_scopes=("https://management.azure.com/.default",))


def emulator_connection_from_env() -> Connection | None:
    """An external emulator (`provision emulator serve`) named by its environment variables."""
    url, ca_file, token_file = (os.environ.get(name) for name in EMULATOR_ENV)
    if not url:
        return None
    if not (ca_file and token_file):
        raise ProvisionerError("PROVISION_EMULATOR_URL is set but PROVISION_EMULATOR_CA or "
                               "PROVISION_EMULATOR_TOKEN_FILE is not",
                               hint="copy all three lines that `provision emulator serve` prints")
    from provisioner.emulator import EmulatorCredential

    return emulator_connection(url, ca_file, EmulatorCredential(Path(token_file).read_text().strip()))


def retail_prices_client(connection: Connection | None = None) -> PipelineClient:
    """A plain HTTP client for the Azure Retail Prices API, or for an emulator's copy of it (its URL, and
    its CA trusted as for the management clients). No credential: the API is unauthenticated. No retry
    policy: provisioner.azure.retry is the one retry layer."""
    base_url = connection.base_url if connection is not None else RETAIL_PRICES_URL
    verify: bool | str = connection.ca_file if connection is not None and connection.ca_file else True
    return PipelineClient(base_url, policies=[HeadersPolicy({"Accept": "application/json"}),
                                              UserAgentPolicy(user_agent="provision")],
                          connection_verify=verify, read_timeout=120)


@dataclass
class Clients:
    """SDK clients per subscription, built on first use and reused. All of them spend one ArmBudget:
    ARM's buckets are per subscription, whichever client sends the request."""

    connection: Connection
    budget: ArmBudget = field(default_factory=ArmBudget)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def _options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "base_url": self.connection.base_url,
            "retry_total": 0,  # provisioner.azure.retry owns retries
            "logging_enable": False,  # request logs could carry keys
            "per_retry_policies": [ArmBudgetPolicy(self.budget)],  # every attempt waits for ARM's tokens
        }
        if self.connection.credential_scopes:
            options["credential_scopes"] = list(self.connection.credential_scopes)
        if self.connection.ca_file:
            options["connection_verify"] = self.connection.ca_file
        return options

    def _client(self, kind: str, subscription: str, factory: type) -> Any:
        key = (kind, subscription.lower())
        if key not in self._cache:
            self._cache[key] = factory(self.connection.credential, subscription, **self._options())
        return self._cache[key]

    def cognitive(self, subscription: str) -> CognitiveServicesManagementClient:
        return self._client("cognitive", subscription, CognitiveServicesManagementClient)

    def resources(self, subscription: str) -> ResourceManagementClient:
        return self._client("resources", subscription, ResourceManagementClient)

    def keyvault(self, subscription: str) -> KeyVaultManagementClient:
        return self._client("keyvault", subscription, KeyVaultManagementClient)

    def deployments(self, subscription: str) -> DeploymentsMgmtClient:
        return self._client("deployments", subscription, DeploymentsMgmtClient)

    def close(self) -> None:
        for client in self._cache.values():
            client.close()
        self._cache.clear()
