"""provision: Azure OpenAI model deployments as code."""

__version__ = "0.1.0"
