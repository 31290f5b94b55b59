"""O2IMS routes: API prefixes (hyphenated, plus the older spellings still seen in the field).

(To be extended with the full route table from the vendored OpenAPI definitions.)
"""

from __future__ import annotations

__all__ = ["API_NAMES", "O2IMS_PATH_PREFIXES"]

#: The O2IMS API names, as they appear in the first path segment.
API_NAMES = (
    "infrastructureInventory",
    "infrastructureMonitoring",
    "infrastructureProvisioning",
    "infrastructureCluster",
    "infrastructureArtifacts",
)

#: Path prefixes recorded by default: the spec's ``/o2ims-...`` and the older ``/o2ims_...``, ``/O2ims_...``.
O2IMS_PATH_PREFIXES: tuple[str, ...] = tuple(
    f"/{stem}{sep}{name}" for stem, sep in (("o2ims", "-"), ("o2ims", "_"), ("O2ims", "_")) for name in API_NAMES
)
