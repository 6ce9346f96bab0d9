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
COGNITIVE_SERVICES_SCOPE = "https://cognitiveservices.azure.com/.default"  # Azure OpenAI's data plane
INFERENCE_API_VERSION = "2024-10-21"  # the GA inference API (data-plane/AzureOpenAI/inference/stable/2024-10-21)
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


def azure_connection(cloud: str = "public", *, ca_file: str | None = None) -> Connection:
    """Azure through DefaultAzureCredential (workload identity federation, a service principal's
    AZURE_* variables, managed identity, `az login`...). `cloud` is a known cloud's name, or the URL of
    an Azure Resource Manager whose endpoints are discovered from its /metadata/endpoints, as
    sovereign and private clouds are registered (`ca_file`: trust that CA for it and its sign-in)."""
    from azure.identity import AzureAuthorityHosts, DefaultAzureCredential

    options: dict[str, Any] = {}
    if cloud in CLOUDS:
        base_url = CLOUDS[cloud]
        options["authority"] = {"public": AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, "china": AzureAuthorityHosts.AZURE_CHINA,
                                "usgov": AzureAuthorityHosts.AZURE_GOVERNMENT}[cloud]
        scope = base_url + "/.default"
    elif cloud.startswith("https://"):
        endpoints = discover_cloud(cloud, ca_file)
        base_url = endpoints["resourceManager"]
        options["authority"] = endpoints["authority"]
        options["disable_instance_discovery"] = True  # instance discovery asks the public cloud
        scope = endpoints["audience"].rstrip("/") + "/.default"
        if ca_file:
            options["connection_verify"] = ca_file
    else:
        raise ProvisionerError(f"unknown cloud {cloud!r}",
                               hint=f"use one of: {', '.join(CLOUDS)}, or the https:// URL of a Resource Manager")
    credential = DefaultAzureCredential(**options)
    try:  # once, up front: one clear error instead of one per parallel read
        credential.get_token(scope)
    except ClientAuthenticationError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or ["(no detail)"]
        detail = next((line for line in lines if "AADSTS" in line), lines[0])  # Entra's own reason, when given
        raise ProvisionerError(
            "could not get an Azure access token: " + detail[:500],
            hint="run `az login`, set AZURE_CLIENT_ID and AZURE_TENANT_ID (with AZURE_CLIENT_SECRET or a "
                 "federated token) for a service principal, or use --emulator to try without Azure") from None
    return Connection(base_url, credential, ca_file=ca_file, credential_scopes=(scope,))


def discover_cloud(arm_url: str, ca_file: str | None = None) -> dict[str, str]:
    """A cloud's endpoints from its Resource Manager's /metadata/endpoints (read without a token):
    {"resourceManager", "authority", "audience"} (ARM-FACTS §10)."""
    from azure.core import PipelineClient
    from azure.core.exceptions import AzureError
    from azure.core.rest import HttpRequest

    base = arm_url.rstrip("/")
    client = PipelineClient(base, **({"connection_verify": ca_file} if ca_file else {}))
    try:
        with client:
            response = client.send_request(HttpRequest("GET", f"{base}/metadata/endpoints?api-version=2022-09-01"))
            response.raise_for_status()
            document = response.json()
        if isinstance(document, list):  # api-versions from 2019-05-01 list every cloud that ARM knows
            document = next((c for c in document if str(c.get("resourceManager", "")).rstrip("/") == base),
                            document[0])
        authentication = document["authentication"]
        return {"resourceManager": str(document.get("resourceManager") or base).rstrip("/"),
                "authority": str(authentication["loginEndpoint"]).rstrip("/"),
                "audience": str(authentication["audiences"][0])}
    except (AzureError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ProvisionerError(f"cannot discover the cloud at {base}: {type(exc).__name__}: "
                               f"{(str(exc).splitlines() or [''])[0][:200]}",
                               hint="give the Resource Manager URL of the cloud (it serves /metadata/endpoints)"
                               ) from None


def emulator_connection(base_url: str, ca_file: str, credential: Any) -> Connection:
    return Connection(base_url.rstrip("/"), credential, ca_file=ca_file, is_emulator=True,
                      credential_scopes=("https://management.azure.com/.default",))


def emulator_connection_from_env() -> Connection | None:
    """An external emulator (`provision emulator serve`) named by its environment variables."""
    url, ca_file, token_file = (os.environ.get(name) for name in EMULATOR_ENV)
    if not url:
        return None
    if ca_file and not token_file and os.environ.get("AZURE_CLIENT_ID"):
        # sign in as anywhere else: DefaultAzureCredential with the standard AZURE_* variables,
        # against the cloud that the emulator's /metadata/endpoints describes
        return azure_connection(url, ca_file=ca_file)
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

    # The security pillar's clients are imported when first used: azure.mgmt.network alone takes longer
    # to import than every other client together, and most commands never need it.
    def network(self, subscription: str) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return self._client("network", subscription, NetworkManagementClient)

    def authorization(self, subscription: str) -> Any:
        from azure.mgmt.authorization import AuthorizationManagementClient

        return self._client("authorization", subscription, AuthorizationManagementClient)

    def monitor(self, subscription: str) -> Any:
        from azure.mgmt.monitor import MonitorManagementClient

        return self._client("monitor", subscription, MonitorManagementClient)

    def identities(self, subscription: str) -> Any:
        from azure.mgmt.msi import ManagedServiceIdentityClient

        return self._client("identities", subscription, ManagedServiceIdentityClient)

    def inference(self, endpoint: str, *, key: str | None = None) -> Any:
        """The `openai` package's Azure client for an account's endpoint: the account key when given,
        else an Entra token for the Cognitive Services scope from this connection's credential. No
        retries: a 429 is something to report, not to hide."""
        import ssl

        import httpx
        from openai import AzureOpenAI

        verify = ssl.create_default_context(cafile=self.connection.ca_file) if self.connection.ca_file else True
        auth: dict[str, Any] = {"api_key": key} if key is not None else {
            "azure_ad_token_provider": lambda: self.connection.credential.get_token(COGNITIVE_SERVICES_SCOPE).token}
        return AzureOpenAI(azure_endpoint=endpoint, api_version=INFERENCE_API_VERSION, max_retries=0, timeout=60,
                           http_client=httpx.Client(verify=verify), **auth)

    def close(self) -> None:
        for client in self._cache.values():
            client.close()
        self._cache.clear()
