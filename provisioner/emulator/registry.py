"""What ARM knows about providers: regions, resource types, their api-versions and locations.

One source for `GET /subscriptions/{s}/providers[/{namespace}]`, `GET /subscriptions/{s}/locations`
and the checks every request goes through (`check_api_version`, `check_location`).

Provenance:
- api-versions: the input files of each namespace's autorest configuration in
  Azure/azure-rest-api-specs (specification/cognitiveservices/resource-manager/readme.md @ 0000bae4,
  specification/keyvault/resource-manager/Microsoft.KeyVault/KeyVault/readme.md @ 07de5c4a,
  specification/resources/resource-manager/Microsoft.Resources/resources/readme.md @ 01fd66f3 and the
  subscriptions/stable folders), plus the list ARM itself printed for Microsoft.Resources in an
  InvalidApiVersionParameter message [ISSUE Azure/azure-cli#28038], plus the versions the installed
  SDKs default to and the recorded sessions in tests/fixtures/recordings use.
- regions: the list ARM returned for GET /subscriptions/{s}/locations (2023-09), as printed in
  cloud-barista/cb-spider `cloud-control-manager/cloud-driver/drivers/azure/resources/RegionZoneHandler.go`;
  metadata (coordinates, pairs) only where a spec example shows it (eastus, eastus2: GetLocations.json
  2022-12-01) or a public copy of a real answer does (westeurope).
- Which api-versions and locations each resource type has is UNVERIFIED: every type of a namespace
  gets the namespace's versions, and accounts and vaults every physical region.
- Error codes and messages: NoRegisteredProviderFound [ISSUE Azure/azure-cli#28496], InvalidApiVersionParameter
  [ISSUE Azure/azure-cli#28038], LocationNotAvailableForResourceType [ISSUE Azure/pcs-cli#522],
  LocationNotAvailableForResourceGroup [ISSUE cloud-barista/cb-spider#527].
"""
from __future__ import annotations

import re
from typing import Callable

from provisioner.emulator.errors import ArmError

# name, display name, regional display name (cb-spider's copy of a real answer, 2023-09)
PHYSICAL_REGIONS = [
    ("eastus", "East US", "(US) East US"), ("eastus2", "East US 2", "(US) East US 2"),
    ("southcentralus", "South Central US", "(US) South Central US"), ("westus2", "West US 2", "(US) West US 2"),
    ("westus3", "West US 3", "(US) West US 3"), ("australiaeast", "Australia East", "(Asia Pacific) Australia East"),
    ("southeastasia", "Southeast Asia", "(Asia Pacific) Southeast Asia"),
    ("northeurope", "North Europe", "(Europe) North Europe"), ("swedencentral", "Sweden Central", "(Europe) Sweden Central"),
    ("uksouth", "UK South", "(Europe) UK South"), ("westeurope", "West Europe", "(Europe) West Europe"),
    ("centralus", "Central US", "(US) Central US"),
    ("southafricanorth", "South Africa North", "(Africa) South Africa North"),
    ("centralindia", "Central India", "(Asia Pacific) Central India"), ("eastasia", "East Asia", "(Asia Pacific) East Asia"),
    ("japaneast", "Japan East", "(Asia Pacific) Japan East"), ("koreacentral", "Korea Central", "(Asia Pacific) Korea Central"),
    ("canadacentral", "Canada Central", "(Canada) Canada Central"),
    ("francecentral", "France Central", "(Europe) France Central"),
    ("germanywestcentral", "Germany West Central", "(Europe) Germany West Central"),
    ("italynorth", "Italy North", "(Europe) Italy North"), ("norwayeast", "Norway East", "(Europe) Norway East"),
    ("polandcentral", "Poland Central", "(Europe) Poland Central"),
    ("switzerlandnorth", "Switzerland North", "(Europe) Switzerland North"),
    ("uaenorth", "UAE North", "(Middle East) UAE North"), ("brazilsouth", "Brazil South", "(South America) Brazil South"),
    ("centraluseuap", "Central US EUAP", "(US) Central US EUAP"), ("qatarcentral", "Qatar Central", "(Middle East) Qatar Central"),
    ("northcentralus", "North Central US", "(US) North Central US"), ("westus", "West US", "(US) West US"),
    ("jioindiawest", "Jio India West", "(Asia Pacific) Jio India West"),
    ("eastus2euap", "East US 2 EUAP", "(US) East US 2 EUAP"), ("westcentralus", "West Central US", "(US) West Central US"),
    ("southafricawest", "South Africa West", "(Africa) South Africa West"),
    ("australiacentral", "Australia Central", "(Asia Pacific) Australia Central"),
    ("australiacentral2", "Australia Central 2", "(Asia Pacific) Australia Central 2"),
    ("australiasoutheast", "Australia Southeast", "(Asia Pacific) Australia Southeast"),
    ("japanwest", "Japan West", "(Asia Pacific) Japan West"),
    ("jioindiacentral", "Jio India Central", "(Asia Pacific) Jio India Central"),
    ("koreasouth", "Korea South", "(Asia Pacific) Korea South"), ("southindia", "South India", "(Asia Pacific) South India"),
    ("westindia", "West India", "(Asia Pacific) West India"), ("canadaeast", "Canada East", "(Canada) Canada East"),
    ("francesouth", "France South", "(Europe) France South"), ("germanynorth", "Germany North", "(Europe) Germany North"),
    ("norwaywest", "Norway West", "(Europe) Norway West"), ("switzerlandwest", "Switzerland West", "(Europe) Switzerland West"),
    ("ukwest", "UK West", "(Europe) UK West"), ("uaecentral", "UAE Central", "(Middle East) UAE Central"),
    ("brazilsoutheast", "Brazil Southeast", "(South America) Brazil Southeast"),
]
LOGICAL_REGIONS = [("asia", "Asia"), ("asiapacific", "Asia Pacific"), ("australia", "Australia"), ("brazil", "Brazil"),
                   ("canada", "Canada"), ("europe", "Europe"), ("france", "France"), ("germany", "Germany"),
                   ("global", "Global"), ("india", "India"), ("japan", "Japan"), ("korea", "Korea"), ("norway", "Norway"),
                   ("singapore", "Singapore"), ("southafrica", "South Africa"), ("switzerland", "Switzerland"),
                   ("uae", "United Arab Emirates"), ("uk", "United Kingdom"), ("unitedstates", "United States")]
# Regions where resource groups cannot be created (the list ARM answered in cb-spider#527 leaves them out).
RESTRICTED_FOR_GROUPS = {"germanynorth", "francesouth", "southafricawest", "switzerlandwest", "uaecentral",
                         "norwaywest", "brazilsoutheast"}
KNOWN_METADATA = {  # GetLocations.json (2022-12-01) and a copy of a real westeurope answer
    "eastus": {"geography": "United States", "geographyGroup": "US", "latitude": "37.3719", "longitude": "-79.8164",
               "physicalLocation": "Virginia", "pairedRegion": ["westus"], "regionCategory": "Recommended",
               "zones": ("az1", "az3", "az2")},
    "eastus2": {"geography": "United States", "geographyGroup": "US", "latitude": "36.6681", "longitude": "-78.3889",
                "physicalLocation": "Virginia", "pairedRegion": ["centralus"], "regionCategory": "Recommended",
                "zones": ("az1", "az3", "az2")},
    "westeurope": {"geography": "Europe", "geographyGroup": "Europe", "latitude": "52.3667", "longitude": "4.9",
                   "physicalLocation": "Netherlands", "pairedRegion": ["northeurope"], "regionCategory": "Recommended",
                   "zones": ("az1", "az2", "az3")},
}

MICROSOFT_RESOURCES_VERSIONS = (  # ARM's own list [azure-cli#28038] and the newer spec versions
    "2025-04-01", "2025-03-01", "2024-11-01", "2024-07-01", "2024-03-01", "2023-07-01", "2023-07-01-preview",
    "2023-03-01-preview", "2022-12-01", "2022-11-01-preview", "2022-09-01", "2022-06-01", "2022-05-01",
    "2022-03-01-preview", "2022-01-01", "2021-04-01", "2021-01-01", "2020-10-01", "2020-09-01", "2020-08-01",
    "2020-07-01", "2020-06-01", "2020-05-01", "2020-01-01", "2019-11-01", "2019-10-01", "2019-09-01", "2019-08-01",
    "2019-07-01", "2019-06-01", "2019-05-10", "2019-05-01", "2019-03-01", "2018-11-01", "2018-09-01", "2018-08-01",
    "2018-07-01", "2018-06-01", "2018-05-01", "2018-02-01", "2018-01-01", "2017-12-01", "2017-08-01", "2017-06-01",
    "2017-05-10", "2017-05-01", "2017-03-01", "2016-09-01", "2016-07-01", "2016-06-01", "2016-02-01", "2015-11-01",
    "2015-01-01", "2014-04-01-preview", "2014-04-01", "2014-01-01")
DEPLOYMENTS_VERSIONS = ("2026-06-01",) + MICROSOFT_RESOURCES_VERSIONS  # azure-mgmt-resource-deployments 2.0's default
COGNITIVE_SERVICES_VERSIONS = (
    "2026-05-15-preview",  # recorded (test_cognitiveservices_deployment.yaml), newer than the readme snapshot
    "2026-03-15-preview", "2026-03-01", "2026-01-15-preview", "2025-12-01", "2025-10-01-preview", "2025-09-01",
    "2025-07-01-preview", "2025-06-01", "2025-04-01-preview", "2024-10-01", "2024-06-01-preview", "2024-04-01-preview",
    "2023-10-01-preview", "2023-05-01", "2022-12-01", "2022-10-01", "2022-03-01", "2021-10-01", "2021-04-30",
    "2017-04-18", "2016-02-01-preview")
KEY_VAULT_VERSIONS = (
    "2026-05-15",  # azure-mgmt-keyvault 14.1's default
    "2026-03-01-preview", "2026-02-01", "2025-05-01", "2024-12-01-preview", "2024-11-01", "2024-04-01-preview",
    "2023-07-01", "2023-02-01", "2022-11-01", "2022-07-01", "2022-02-01-preview", "2021-11-01-preview", "2021-10-01",
    "2021-06-01-preview", "2021-04-01-preview", "2020-04-01-preview", "2019-09-01", "2018-02-14", "2018-02-14-preview",
    "2016-10-01", "2015-06-01")
NETWORK_VERSIONS = (  # azure-mgmt-network 33.1 speaks 2026-03-01; Microsoft.Network's stable releases before it,
    # and privateDnsZones' own (2024-06-01, 2020-06-01, 2018-09-01: specification/privatedns)
    "2026-03-01", "2025-07-01", "2025-05-01", "2025-03-01", "2025-01-01", "2024-10-01", "2024-07-01", "2024-06-01",
    "2024-05-01", "2024-03-01", "2024-01-01", "2023-11-01", "2023-09-01", "2023-06-01", "2023-05-01", "2023-04-01",
    "2023-02-01", "2022-11-01", "2022-09-01", "2022-07-01", "2022-05-01", "2022-01-01", "2021-08-01", "2021-05-01",
    "2021-03-01", "2021-02-01", "2020-11-01", "2020-08-01", "2020-07-01", "2020-06-01", "2020-05-01", "2020-04-01",
    "2020-03-01", "2019-12-01", "2019-11-01", "2019-09-01", "2019-08-01", "2019-07-01", "2019-06-01", "2019-04-01",
    "2019-02-01", "2018-12-01", "2018-11-01", "2018-10-01", "2018-09-01", "2018-08-01")
AUTHORIZATION_VERSIONS = (  # azure-mgmt-authorization 4.0 defaults to 2022-04-01 for both role APIs
    "2022-04-01", "2022-05-01-preview", "2022-04-01-preview", "2020-10-01-preview", "2020-08-01-preview",
    "2020-04-01-preview", "2018-09-01-preview", "2018-07-01", "2018-01-01-preview", "2017-05-01", "2015-07-01")
INSIGHTS_VERSIONS = (  # azure-mgmt-monitor 6.0's diagnostic_settings: 2021-05-01-preview
    "2021-05-01-preview", "2020-01-01-preview", "2017-05-01-preview", "2016-09-01", "2015-07-01")
MANAGED_IDENTITY_VERSIONS = (  # azure-mgmt-msi 7.1 defaults to 2024-11-30
    "2024-11-30", "2023-07-31-preview", "2023-01-31", "2022-01-31-preview", "2021-09-30-preview", "2018-11-30",
    "2015-08-31-preview")
OPERATIONAL_INSIGHTS_VERSIONS = ("2025-02-01", "2023-09-01", "2022-10-01", "2021-12-01-preview", "2021-06-01",
                                 "2020-10-01", "2020-08-01", "2020-03-01-preview", "2015-11-01-preview")
NAMESPACE_VERSIONS = {"microsoft.resources": MICROSOFT_RESOURCES_VERSIONS,
                      "microsoft.cognitiveservices": COGNITIVE_SERVICES_VERSIONS,
                      "microsoft.keyvault": KEY_VAULT_VERSIONS,
                      "microsoft.network": NETWORK_VERSIONS,
                      "microsoft.authorization": AUTHORIZATION_VERSIONS,
                      "microsoft.insights": INSIGHTS_VERSIONS,
                      "microsoft.managedidentity": MANAGED_IDENTITY_VERSIONS,
                      "microsoft.operationalinsights": OPERATIONAL_INSIGHTS_VERSIONS}

PHYSICAL = "physical"  # stands for every physical region in RESOURCE_TYPES
# namespace -> resource type -> where it can be created (None: no location, a proxy or action type)
RESOURCE_TYPES: dict[str, dict[str, object]] = {
    "Microsoft.Resources": {
        "resourceGroups": "groups", "deployments": None, "deployments/operations": None, "subscriptions": None,
        "subscriptions/locations": None, "subscriptions/resources": None, "subscriptions/providers": None,
        "subscriptions/resourceGroups": None, "tenants": None, "providers": None, "resources": None,
        "operationresults": None},
    "Microsoft.CognitiveServices": {
        "accounts": (PHYSICAL, "global"), "accounts/deployments": None, "accounts/raiPolicies": None,
        "accounts/raiBlocklists": None, "accounts/raiBlocklists/raiBlocklistItems": None, "deletedAccounts": None,
        "locations": None, "locations/resourceGroups/deletedAccounts": None, "locations/operationResults": None,
        "locations/models": None, "locations/usages": None, "locations/raiContentFilters": None,
        "locations/modelCapacities": None, "locations/checkSkuAvailability": None, "modelCapacities": None,
        "checkDomainAvailability": None, "calculateModelCapacity": None, "skus": None, "operations": None,
        "accounts/privateEndpointConnections": None, "accounts/privateLinkResources": None},
    "Microsoft.KeyVault": {
        "vaults": (PHYSICAL,), "vaults/secrets": None, "deletedVaults": None, "locations": None,
        "locations/deletedVaults": None, "locations/operationResults": None, "managedHSMs": (PHYSICAL,),
        "deletedManagedHSMs": None, "locations/deletedManagedHSMs": None, "operations": None},
    "Microsoft.Network": {
        "virtualNetworks": (PHYSICAL,), "virtualNetworks/subnets": None, "privateEndpoints": (PHYSICAL,),
        "privateEndpoints/privateDnsZoneGroups": None, "privateDnsZones": ("global",), "locations": None,
        "locations/operations": None, "locations/operationResults": None},
    "Microsoft.Authorization": {"roleAssignments": None, "roleDefinitions": None},
    "Microsoft.Insights": {"diagnosticSettings": None, "diagnosticSettingsCategories": None},
    "Microsoft.ManagedIdentity": {"userAssignedIdentities": (PHYSICAL,)},
    "Microsoft.OperationalInsights": {"workspaces": (PHYSICAL,)},
}
VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-z]+)?$")


def physical_regions() -> list[str]:
    return [name for name, _, _ in PHYSICAL_REGIONS]


def locations_of(namespace: str, resource_type: str) -> list[str] | None:
    """The regions a resource type can be created in (lower case, no spaces), or None if it has none."""
    where = _lookup(RESOURCE_TYPES, namespace, {}).get(_type_key(namespace, resource_type))
    if where is None:
        return None
    if where == "groups":
        return [r for r in physical_regions() if r not in RESTRICTED_FOR_GROUPS]
    names: list[str] = []
    for part in where:
        names += physical_regions() if part == PHYSICAL else [part]
    return names


def api_versions(namespace: str) -> tuple[str, ...]:
    return NAMESPACE_VERSIONS.get(namespace.lower(), ())


def check_api_version(resource_type: str, api_version: str, location: Callable[[], str | None]) -> None:
    """400 unless the namespace serves this api-version, with ARM's code for the namespace:
    InvalidApiVersionParameter for Microsoft.Resources, NoRegisteredProviderFound for providers."""
    namespace, _, type_name = resource_type.partition("/")
    versions = DEPLOYMENTS_VERSIONS if resource_type.lower().startswith("microsoft.resources/deployments") \
        else api_versions(namespace)
    if not versions or api_version in versions:
        return
    if namespace.lower() == "microsoft.resources":
        raise ArmError(400, "InvalidApiVersionParameter",
                       f"The api-version '{api_version}' is invalid. The supported versions are "
                       f"'{', '.join(versions)}'.")
    regions = locations_of(namespace, type_name) or physical_regions()
    raise ArmError(400, "NoRegisteredProviderFound",
                   f"No registered resource provider found for location '{location() or 'global'}' and API version "
                   f"'{api_version}' for type '{type_name}'. The supported api-versions are '{', '.join(versions)}'. "
                   f"The supported locations are '{', '.join(regions)}'.")


def check_location(resource_type: str, location: str) -> str:
    """The region's canonical name, or 400 LocationNotAvailableFor... when the type is not offered there."""
    namespace, _, type_name = resource_type.partition("/")
    allowed = locations_of(namespace, type_name)
    wanted = location.replace(" ", "").lower()
    if allowed is None or wanted in allowed:
        return wanted
    if type_name.lower() == "resourcegroups":
        raise ArmError(400, "LocationNotAvailableForResourceGroup",
                       f"The provided location '{location}' is not available for resource group. List of available "
                       f"regions is '{','.join(allowed)}'.")
    raise ArmError(400, "LocationNotAvailableForResourceType",
                   f"The provided location '{location}' is not available for resource type '{namespace}/{type_name}'. "
                   f"List of available regions for the resource type is '{','.join(allowed)}'.")


def required_location(resource_type: str, body: dict, existing: dict | None = None) -> str:
    """The body's location (or, when it leaves it out, the existing resource's), checked: 400
    LocationRequired without one."""
    location = body.get("location") or (existing or {}).get("location")
    if not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    return check_location(resource_type, location)


def display_name(region: str) -> str:
    for name, display, _ in PHYSICAL_REGIONS:
        if name == region:
            return display
    return next((display for name, display in LOGICAL_REGIONS if name == region), region)


def location_docs(subscription: str) -> list[dict]:
    """GET /subscriptions/{s}/locations: every region, physical first, in the Location shape."""
    docs = []
    for name, display, regional in PHYSICAL_REGIONS:
        known = KNOWN_METADATA.get(name, {})
        group = regional[1:regional.index(")")] if regional.startswith("(") else display
        metadata = {"regionType": "Physical", "regionCategory": known.get("regionCategory", "Other"),
                    "geography": known.get("geography", group), "geographyGroup": known.get("geographyGroup", group)}
        for key in ("latitude", "longitude", "physicalLocation"):
            if key in known:
                metadata[key] = known[key]
        if "pairedRegion" in known:
            metadata["pairedRegion"] = [{"name": p, "id": f"/subscriptions/{subscription}/locations/{p}"}
                                        for p in known["pairedRegion"]]
        doc = {"id": f"/subscriptions/{subscription}/locations/{name}", "name": name, "type": "Region",
               "displayName": display, "regionalDisplayName": regional, "metadata": metadata}
        if "zones" in known:
            doc["availabilityZoneMappings"] = [{"logicalZone": str(i + 1), "physicalZone": f"{name}-{zone}"}
                                               for i, zone in enumerate(known["zones"])]
        docs.append(doc)
    for name, display in LOGICAL_REGIONS:
        docs.append({"id": f"/subscriptions/{subscription}/locations/{name}", "name": name, "type": "Region",
                     "displayName": display, "regionalDisplayName": display,
                     "metadata": {"regionType": "Logical", "regionCategory": "Other"}})
    return docs


def provider_doc(subscription: str | None, namespace: str) -> dict | None:
    """GET [/subscriptions/{s}]/providers/{namespace}: the provider, registered, with its resource types."""
    key = next((n for n in RESOURCE_TYPES if n.lower() == namespace.lower()), None)
    if key is None:
        return None
    types = []
    for type_name in RESOURCE_TYPES[key]:
        regions = locations_of(key, type_name)
        versions = DEPLOYMENTS_VERSIONS if (key, type_name) == ("Microsoft.Resources", "deployments") \
            else NAMESPACE_VERSIONS[key.lower()]
        types.append({"resourceType": type_name,
                      "locations": [display_name(r) for r in regions] if regions else [],
                      "apiVersions": list(versions), "defaultApiVersion": versions[0] if "-preview" not in versions[0]
                      else next(v for v in versions if "-preview" not in v),
                      "capabilities": "SupportsTags, SupportsLocation" if regions else "None"})
    prefix = f"/subscriptions/{subscription}" if subscription else ""
    return {"id": f"{prefix}/providers/{key}", "namespace": key, "registrationState": "Registered",
            "registrationPolicy": "RegistrationRequired", "resourceTypes": types}


def namespaces() -> list[str]:
    return list(RESOURCE_TYPES)


def resource_type_of(template: str) -> str | None:
    """The ARM resource type a route template addresses ("Microsoft.CognitiveServices/accounts/deployments"),
    read as ARM reads a path: after /providers/{namespace}/, type and name segments alternate; a trailing
    POST action names its parent's type. None: the route is not a resource type (emulator-made URLs)."""
    parts = [p for p in template.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "providers" in lowered:
        index = lowered.index("providers")
        if index + 1 >= len(parts) or parts[index + 1].startswith("{"):
            return "Microsoft.Resources/providers"
        namespace = _canonical_namespace(parts[index + 1])
        names = [p for p in parts[index + 2:] if not p.startswith("{")]
        return f"{namespace}/{'/'.join(names)}" if names else "Microsoft.Resources/providers"
    if lowered[:1] == ["tenants"]:
        return "Microsoft.Resources/tenants"
    if "deployments" in lowered:
        return "Microsoft.Resources/deployments"
    if "resourcegroups" in lowered:
        return "Microsoft.Resources/resourceGroups" if lowered[-1] in ("resourcegroups", "{group}") \
            else "Microsoft.Resources/resources"
    return "Microsoft.Resources/subscriptions"


def _canonical_namespace(segment: str) -> str:
    return next((n for n in RESOURCE_TYPES if n.lower() == segment.lower()), segment)


def _type_key(namespace: str, resource_type: str) -> str:
    types = _lookup(RESOURCE_TYPES, namespace, {})
    return next((t for t in types if t.lower() == resource_type.lower()), resource_type)


def _lookup(mapping: dict, key: str, default):
    return next((v for k, v in mapping.items() if k.lower() == key.lower()), default)
