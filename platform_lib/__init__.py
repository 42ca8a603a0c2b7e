"""The platform: validate tenant configs, plan deploys, and run them on shared Docker hosts."""

__version__ = "0.1.0"

__all__ = ["__version__"]
