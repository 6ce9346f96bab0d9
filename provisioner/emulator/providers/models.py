"""(being written)"""
from provisioner.emulator.arm import Router


def register(router: Router) -> None:
    pass
