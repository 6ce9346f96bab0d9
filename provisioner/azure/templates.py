"""Submitting a template as a Microsoft.Resources/deployments deployment and reading its operations."""
from __future__ import annotations

import time
from datetime import datetime, timezone

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from provisioner.azure import retry
from provisioner.azure.clients import Clients
from provisioner.azure.polling import ResumingPolling, get_json
from provisioner.errors import ProvisionerError
from provisioner.plan.result import TemplateOperation, TemplateRun


class AzureTemplateDeployer:
    def __init__(self, clients: Clients, *, first_poll_delay: float = 1.0):
        self.clients = clients
        self.first_poll_delay = first_poll_delay

    def deploy(self, subscription: str, resource_group: str, spec_name: str, template: dict) -> TemplateRun:
        """Run the template in incremental mode and wait; a failed deployment is reported, not raised."""
        client = self.clients.deployments(subscription)
        name = deployment_name(spec_name)
        body = {"properties": {"mode": "Incremental", "template": template}}
        error = None
        try:
            retry.call(lambda: self._submit_or_follow(client, subscription, resource_group, name, body))
        except HttpResponseError as exc:  # the deployment ended Failed: its operations say why
            error = retry.error_message(exc)
        except ProvisionerError as exc:
            error = str(exc)
        try:
            listed = retry.call(lambda: list(client.deployment_operations.list(resource_group, name)))
        except (HttpResponseError, ProvisionerError) as exc:
            return TemplateRun(name, error or str(exc), ())
        operations = []
        for op in listed:
            props = op.properties
            target = props.target_resource if props else None
            if not (target and target.id):
                continue
            failure = props.status_message.error if props.status_message else None
            operations.append(TemplateOperation(
                target.id, props.provisioning_state or "",
                f"{failure.code}: {failure.message}" if failure else ""))
        return TemplateRun(name, error, tuple(operations))

    def _submit_or_follow(self, client, subscription: str, resource_group: str, name: str, body: dict) -> None:
        """Submit the deployment, or, when an earlier attempt did and its answer was lost, follow that one
        to its end: a deployment is never submitted twice."""
        url = (f"/subscriptions/{subscription}/resourcegroups/{resource_group}/providers/Microsoft.Resources"
               f"/deployments/{name}?api-version={client._config.api_version}")
        deadline = time.monotonic() + 3600
        delay = self.first_poll_delay
        while (doc := get_json(client, url)) is not None:
            state = str((doc.get("properties") or {}).get("provisioningState") or "")
            if state.lower() in ("succeeded", "failed", "canceled"):
                if state.lower() != "succeeded":
                    error = (doc.get("properties") or {}).get("error") or {}
                    raise ProvisionerError(f"deployment {name} ended {state}: "
                                           f"{error.get('code', state)}: {error.get('message', '')}".rstrip(": "))
                return
            if time.monotonic() > deadline:
                raise ProvisionerError(f"deployment {name} is still {state} after an hour")
            time.sleep(delay)
            delay = min(15.0, delay * 1.5)
        client.deployments.begin_create_or_update(resource_group, name, body, polling=self._polling()).result()

    def _polling(self) -> ResumingPolling:
        return ResumingPolling(first=self.first_poll_delay, budget=self.clients.budget)

    def purge_account(self, subscription: str, location: str, resource_group: str, name: str) -> None:
        client = self.clients.cognitive(subscription)
        try:
            retry.call(lambda: client.deleted_accounts.begin_purge(
                location, resource_group, name, polling=self._polling()).result())
        except ResourceNotFoundError:
            pass  # purged already


def deployment_name(spec_name: str) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return f"provision-{spec_name}"[:42] + f"-{stamp}"
