"""provision: Azure OpenAI model deployments as code.

`provisioner.Workspace` is the Python API (see provisioner/workspace.py); importing this
package loads nothing else.
"""

__all__ = ["Workspace", "__version__"]


def __getattr__(name: str):
    if name == "__version__":
        from provisioner.version import VERSION

        return VERSION
    if name == "Workspace":
        from provisioner.workspace import Workspace

        return Workspace
    raise AttributeError(f"module 'provisioner' has no attribute {name!r}")
