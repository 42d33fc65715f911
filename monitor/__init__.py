"""Vigía core: configuration, storage, pipeline, scheduler and the `monitor` command line."""

__version__ = "0.1.0"
