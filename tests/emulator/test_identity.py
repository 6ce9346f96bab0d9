"""Entra ID in the emulator, through azure-identity's real credentials (MSAL underneath), and the
token checks ARM makes. PyJWT (msal's own dependency) checks the tokens independently of the
emulator's code, against the keys the emulator publishes."""
from __future__ import annotations

import json
import ssl
import time

import httpx
import jwt
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, EnvironmentCredential, WorkloadIdentityCredential
from azure.mgmt.resource.resources import ResourceManagementClient

from provisioner.emulator import Emulator, EmulatorCredential
from provisioner.emulator.arm import PRINCIPAL_ID, TENANT_ID
from provisioner.emulator.jwt import SigningKey
from tests.conftest import SUBSCRIPTION, sdk_kwargs

ARM_SCOPE = "https://management.azure.com/.default"
GITHUB = "https://token.actions.githubusercontent.com"
SUBJECT = "repo:contoso/deployments:environment:prod"


def verified(emulator) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=emulator.ca_path)


def secret_credential(emulator, principal: dict, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(emulator.tenant_id, principal["client_id"], secret or principal["client_secret"],
                                  authority=emulator.authority, disable_instance_discovery=True,
                                  connection_verify=emulator.ca_path)


def published_keys(emulator) -> dict:
    discovery = httpx.get(f"{emulator.authority}/{TENANT_ID}/v2.0/.well-known/openid-configuration",
                          verify=verified(emulator)).json()
    return httpx.get(discovery["jwks_uri"], verify=verified(emulator)).json()


def decode(emulator, token: str, audience: str) -> dict:
    """The token's claims, checked by PyJWT against the emulator's published JWKS."""
    kid = jwt.get_unverified_header(token)["kid"]
    jwk = next(k for k in published_keys(emulator)["keys"] if k["kid"] == kid)
    return jwt.decode(token, jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk)), algorithms=["RS256"],
                      audience=audience)


def arm(emulator, credential) -> ResourceManagementClient:
    return ResourceManagementClient(credential, SUBSCRIPTION, **sdk_kwargs(emulator))


def arm_get(emulator, token: str) -> httpx.Response:
    return httpx.get(f"{emulator.base_url}/subscriptions/{SUBSCRIPTION}/resourcegroups?api-version=2024-11-01",
                     headers={"Authorization": f"Bearer {token}"}, verify=verified(emulator))


# OpenID discovery
def test_openid_configuration_names_the_endpoints(emulator):
    for tenant in (TENANT_ID, "provisionemulator.onmicrosoft.com"):
        response = httpx.get(f"{emulator.authority}/{tenant}/v2.0/.well-known/openid-configuration",
                             verify=verified(emulator))
        assert response.status_code == 200
        document = response.json()
        assert document["token_endpoint"] == f"{emulator.base_url}/{TENANT_ID}/oauth2/v2.0/token"
        assert document["authorization_endpoint"] == f"{emulator.base_url}/{TENANT_ID}/oauth2/v2.0/authorize"
        assert document["issuer"] == f"{emulator.base_url}/{TENANT_ID}/v2.0"
        assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    keys = published_keys(emulator)["keys"]
    assert [k["kty"] for k in keys] == ["RSA"] and all(k["use"] == "sig" and k["kid"] for k in keys)


def test_unknown_tenant_is_refused_like_entra(emulator):
    response = httpx.get(f"{emulator.authority}/nobody.onmicrosoft.com/v2.0/.well-known/openid-configuration",
                         verify=verified(emulator))
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_tenant" and body["error_codes"] == [90002]
    assert body["error_description"].startswith("AADSTS90002: Tenant 'nobody.onmicrosoft.com' not found.")


# client secret
def test_client_secret_credential_signs_in_and_arm_accepts_the_token(emulator):
    principal = emulator.control.add_service_principal(display_name="ci")
    credential = secret_credential(emulator, principal)
    client = arm(emulator, credential)
    client.resource_groups.create_or_update("rg", {"location": "eastus"})
    assert [g.name for g in client.resource_groups.list()] == ["rg"]

    before = time.time()
    token = credential.get_token(ARM_SCOPE)
    assert 3500 < token.expires_on - before <= 3600
    claims = decode(emulator, token.token, "https://management.azure.com")
    assert (claims["appid"], claims["oid"], claims["tid"]) == (principal["client_id"], principal["object_id"], TENANT_ID)
    assert claims["iss"] == f"https://sts.windows.net/{TENANT_ID}/" and claims["appidacr"] == "1"
    assert claims["nbf"] <= before <= claims["exp"]
    assert emulator.control.requests()["counts"]["POST /{tenant}/oauth2/v2.0/token"] == 1  # MSAL caches it


def test_the_ca_can_come_from_requests_ca_bundle(emulator, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_path)
    principal = emulator.control.add_service_principal()
    credential = ClientSecretCredential(emulator.tenant_id, principal["client_id"], principal["client_secret"],
                                        authority=emulator.authority, disable_instance_discovery=True)
    assert credential.get_token(ARM_SCOPE).token


def test_environment_for_a_principal_drives_environment_credential(emulator, monkeypatch):
    """emu.environment(principal) gives azure-identity's standard variables; the client still has to
    turn instance discovery off (azure-identity reads no variable for it) and trust the CA."""
    principal = emulator.control.add_service_principal()
    for name, value in {**emulator.environment(principal), "REQUESTS_CA_BUNDLE": emulator.ca_path}.items():
        monkeypatch.setenv(name, value)
    credential = EnvironmentCredential(disable_instance_discovery=True)
    client = arm(emulator, credential)
    assert client.resource_groups.create_or_update("rg-env", {"location": "eastus"}).name == "rg-env"


def test_wrong_secret_fails_with_entras_error(emulator):
    principal = emulator.control.add_service_principal()
    credential = secret_credential(emulator, principal, secret="not-the-secret")
    with pytest.raises(ClientAuthenticationError) as excinfo:
        credential.get_token(ARM_SCOPE)
    message = str(excinfo.value)
    assert "AADSTS7000215: Invalid client secret provided" in message
    assert "not-the-secret" not in message and principal["client_secret"] not in message


def test_unknown_client_and_missing_credential(emulator):
    unknown = {"client_id": "11111111-2222-3333-4444-555555555555", "client_secret": "x"}
    with pytest.raises(ClientAuthenticationError, match="AADSTS700016: Application with identifier "
                                                        "'11111111-2222-3333-4444-555555555555' was not found"):
        secret_credential(emulator, unknown).get_token(ARM_SCOPE)
    principal = emulator.control.add_service_principal()
    token_url = f"{emulator.base_url}/{TENANT_ID}/oauth2/v2.0/token"
    response = httpx.post(token_url, data={"grant_type": "client_credentials", "client_id": principal["client_id"],
                                           "scope": ARM_SCOPE}, verify=verified(emulator))
    assert (response.status_code, response.json()["error"], response.json()["error_codes"]) == (
        401, "invalid_client", [7000218])
    for scope in ("https://management.azure.com/user_impersonation", "https://nowhere.example/.default"):
        refused = httpx.post(token_url, data={"grant_type": "client_credentials", "client_id": principal["client_id"],
                                              "client_secret": principal["client_secret"], "scope": scope},
                             verify=verified(emulator))
        assert refused.status_code == 400 and refused.json()["error"] in ("invalid_scope", "invalid_resource")


def test_the_data_plane_audience_is_obtainable_and_arm_refuses_it(emulator):
    principal = emulator.control.add_service_principal()
    credential = secret_credential(emulator, principal)
    token = credential.get_token("https://cognitiveservices.azure.com/.default").token
    assert decode(emulator, token, "https://cognitiveservices.azure.com")["aud"] == "https://cognitiveservices.azure.com"
    response = arm_get(emulator, token)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    assert response.json()["error"]["message"] == (
        "The access token has been obtained for wrong audience or resource 'https://cognitiveservices.azure.com'. "
        "It should exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
        "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# workload identity federation
def test_workload_identity_credential_signs_in_with_a_federated_token(emulator, tmp_path):
    principal = emulator.control.add_service_principal()
    emulator.control.add_federated_credential(principal["client_id"], issuer=GITHUB, subject=SUBJECT)
    token_file = tmp_path / "federated-token"
    token_file.write_text(emulator.control.federated_token(GITHUB, SUBJECT))
    credential = WorkloadIdentityCredential(tenant_id=emulator.tenant_id, client_id=principal["client_id"],
                                            token_file_path=str(token_file), authority=emulator.authority,
                                            disable_instance_discovery=True, connection_verify=emulator.ca_path)
    client = arm(emulator, credential)
    client.resource_groups.create_or_update("rg", {"location": "eastus"})
    claims = decode(emulator, credential.get_token(ARM_SCOPE).token, "https://management.azure.com")
    assert (claims["appid"], claims["appidacr"]) == (principal["client_id"], "2")


@pytest.mark.parametrize("issuer, subject, audience", [
    (GITHUB, "repo:contoso/deployments:environment:dev", "api://AzureADTokenExchange"),
    ("https://token.actions.githubusercontent.com/", SUBJECT, "api://AzureADTokenExchange"),  # exact match only
    (GITHUB, SUBJECT, "api://SomethingElse"),
])
def test_an_assertion_matching_no_federated_credential_is_refused(emulator, tmp_path, issuer, subject, audience):
    principal = emulator.control.add_service_principal()
    emulator.control.add_federated_credential(principal["client_id"], issuer=GITHUB, subject=SUBJECT)
    token_file = tmp_path / "t"
    token_file.write_text(emulator.control.federated_token(issuer, subject, audience))
    credential = WorkloadIdentityCredential(tenant_id=emulator.tenant_id, client_id=principal["client_id"],
                                            token_file_path=str(token_file), authority=emulator.authority,
                                            disable_instance_discovery=True, connection_verify=emulator.ca_path)
    with pytest.raises(ClientAuthenticationError) as excinfo:
        credential.get_token(ARM_SCOPE)
    assert "AADSTS70021: No matching federated identity record found for presented assertion." in str(excinfo.value)
    assert f"Assertion Subject: '{subject}'" in str(excinfo.value)


def assertion_request(emulator, principal: dict, assertion: str) -> httpx.Response:
    return httpx.post(f"{emulator.base_url}/{TENANT_ID}/oauth2/v2.0/token",
                      data={"grant_type": "client_credentials", "client_id": principal["client_id"], "scope": ARM_SCOPE,
                            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                            "client_assertion": assertion}, verify=verified(emulator))


def test_assertions_are_checked_against_their_issuers_keys(emulator):
    principal = emulator.control.add_service_principal()
    emulator.control.add_federated_credential(principal["client_id"], issuer=GITHUB, subject=SUBJECT)
    now = int(time.time())
    claims = {"iss": GITHUB, "sub": SUBJECT, "aud": "api://AzureADTokenExchange", "iat": now, "nbf": now,
              "exp": now + 600}
    forged = SigningKey.generate()
    response = assertion_request(emulator, principal, forged.sign(claims))
    assert response.status_code == 401 and response.json()["error_codes"] == [700027]

    emulator.control.trust_issuer(GITHUB, {"keys": [forged.jwk()]})  # now that key is GitHub's
    assert assertion_request(emulator, principal, forged.sign(claims)).status_code == 200
    stand_in = emulator.control.federated_token(GITHUB, SUBJECT)  # no longer GitHub's key
    assert assertion_request(emulator, principal, stand_in).status_code == 401

    expired = forged.sign({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600})
    response = assertion_request(emulator, principal, expired)
    assert response.status_code == 401 and response.json()["error_codes"] == [700024]
    assert response.json()["error"] == "invalid_client"
    assert "Client assertion is not within its valid time range. Current time: " in \
        response.json()["error_description"]
    assert "expiry time of assertion " + time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 3600)) + ".0000000Z" \
        in response.json()["error_description"]


def test_malformed_assertions_and_assertion_types_are_refused(emulator):
    principal = emulator.control.add_service_principal()
    response = assertion_request(emulator, principal, "not-a-jwt")
    assert (response.status_code, response.json()["error"], response.json()["error_codes"]) == \
        (400, "invalid_request", [50027])
    assert response.json()["error_description"].startswith("AADSTS50027: JWT token is invalid or malformed.")
    response = httpx.post(f"{emulator.base_url}/{TENANT_ID}/oauth2/v2.0/token",
                          data={"grant_type": "client_credentials", "client_id": principal["client_id"],
                                "scope": ARM_SCOPE, "client_assertion_type": "urn:example:saml",
                                "client_assertion": emulator.control.federated_token(GITHUB, SUBJECT)},
                          verify=verified(emulator))
    assert (response.status_code, response.json()["error"], response.json()["error_codes"]) == \
        (400, "invalid_request", [90011])
    assert response.json()["error_description"].startswith("AADSTS90011: Unexpected client assertion type.")


# ARM's checks
def test_arm_refuses_expired_tampered_and_foreign_tokens(emulator):
    expired = emulator.control.access_token(lifetime=-3600)
    response = arm_get(emulator, expired)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "ExpiredAuthenticationToken"
    assert response.json()["error"]["message"].startswith("The access token expiry UTC time '")
    assert response.headers["WWW-Authenticate"].startswith(f'Bearer authorization_uri="{emulator.base_url}/{TENANT_ID}"')

    valid = emulator.control.access_token()
    assert arm_get(emulator, valid).status_code == 200
    header, payload, signature = valid.split(".")
    claims = jwt.decode(valid, options={"verify_signature": False})
    claims["oid"] = "someone-else"
    tampered = f"{header}.{jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()}.{signature}"
    foreign = SigningKey.generate().sign(jwt.decode(valid, options={"verify_signature": False}))
    none_header = jwt.utils.base64url_encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).decode()
    unsigned = f"{none_header}.{payload}."
    for token in (tampered, foreign, unsigned, "not-a-token"):
        response = arm_get(emulator, token)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "InvalidAuthenticationToken"), token


def test_the_token_files_token_is_signed_and_long_lived(emulator):
    claims = decode(emulator, emulator.token, "https://management.azure.com/")
    assert claims["oid"] == PRINCIPAL_ID and claims["tid"] == TENANT_ID
    assert claims["exp"] - time.time() > 300 * 86400
    assert arm(emulator, EmulatorCredential(emulator.token)).resource_groups.check_existence("rg") is False


def test_a_state_from_before_sign_in_gets_a_signed_token(tmp_path):
    state = tmp_path / "s.sqlite"
    with Emulator(state) as emu:
        with emu.app.store.transaction():
            emu.app.store.set_setting("token", "eyJhbGciOiJSUzI1NiJ9.e30.random-part")  # as older versions made it
    with Emulator(state) as emu:
        assert emu.token != "eyJhbGciOiJSUzI1NiJ9.e30.random-part"
        assert arm_get(emu, emu.token).status_code == 200
        kept = emu.token
    with Emulator(state) as emu:
        assert emu.token == kept  # still valid: clients holding it keep working


def test_principals_over_http_never_show_secrets(emulator):
    created = httpx.post(f"{emulator.base_url}/_emulator/principals", json={"display_name": "pipeline"},
                         verify=verified(emulator)).json()
    assert created["client_secret"] and created["tenant_id"] == TENANT_ID
    federated = httpx.post(f"{emulator.base_url}/_emulator/principals/{created['client_id']}/federatedCredentials",
                           json={"issuer": GITHUB, "subject": SUBJECT}, verify=verified(emulator))
    assert federated.json()["audiences"] == ["api://AzureADTokenExchange"]
    listed = httpx.get(f"{emulator.base_url}/_emulator/principals", verify=verified(emulator))
    assert created["client_secret"] not in listed.text
    mine = next(p for p in listed.json()["value"] if p["client_id"] == created["client_id"])
    assert (mine["secrets"], mine["federated_credentials"][0]["subject"]) == (1, SUBJECT)
    emulator.control.reset()  # principals survive a reset, as the token does
    assert secret_credential(emulator, created).get_token(ARM_SCOPE).token
