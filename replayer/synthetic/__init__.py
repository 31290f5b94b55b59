"""The synthetic O2IMS: a deterministic, stateful, spec-conformant edge1-4 O-Cloud (issue 4).

    from replayer.synthetic import SyntheticO2IMS, SynthRequest
    model = SyntheticO2IMS()
    model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/deploymentManagers"))

Module map: ``profile`` (YAML -> dataclasses), ``model`` (the objects), ``state`` (per session),
``inventory``/``monitoring``/``provisioning``/``cluster``/``artifacts``/``legacy`` (handlers), ``notify``
(events and delivery), ``admin`` (``/__admin/`` routes), ``openapi`` (``/openapi.json``, ``/docs``),
``api`` (``SyntheticO2IMS``, ``setup_synthetic``, ``setup_docs``). Docs: docs/synthetic.md.
"""

from replayer.synthetic.api import SynthRequest, SynthResponse, SyntheticO2IMS, setup_docs, setup_synthetic
from replayer.synthetic.profile import Profile, load_profile, parse_profile

__all__ = [
    "Profile",
    "SynthRequest",
    "SynthResponse",
    "SyntheticO2IMS",
    "load_profile",
    "parse_profile",
    "setup_docs",
    "setup_synthetic",
]
