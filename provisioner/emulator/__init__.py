"""A local emulator of the Azure Resource Manager control plane for Azure OpenAI.

It imports nothing from the rest of provisioner: the official SDK clients are
its only judges. See README.md ("The emulator") for what it covers and where
it deviates from Azure.
"""
from provisioner.emulator.arm import Config
from provisioner.emulator.errors import StateFileError
from provisioner.emulator.server import Emulator, EmulatorCredential, serve

__all__ = ["Config", "Emulator", "EmulatorCredential", "StateFileError", "serve"]
