"""Cassettes: the vcrpy-compatible model, its YAML, files on disk, the derived cache, error location.

Layers, each importing only those before it: ``model`` (no IO), ``fastyaml`` and ``locate``, ``yaml``
(dump and parse), ``files`` (atomic writes, the writer, finding files), ``guard`` (pre-flight, the
recording lock, stale temp files, rescue), ``cache``, ``load``, ``stream`` (one interaction at a time).
Import names from the module that defines them; this package re-exports nothing.
"""
