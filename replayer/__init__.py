"""o2ims-replay: record, replay and diff O-RAN O2IMS traffic."""

__version__ = "0.1.0"
__all__ = ["__version__"]
