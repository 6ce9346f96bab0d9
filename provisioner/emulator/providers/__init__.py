"""Resource providers: each module adds its ARM routes to the router."""
from __future__ import annotations

from provisioner.emulator.arm import Router


def register_all(router: Router) -> None:
    from provisioner.emulator.providers import resources

    for provider in (resources,):
        provider.register(router)
