"""The synthetic O2IMS: a deterministic, stateful, spec-conformant edge1-4 O-Cloud, with no HTTP in it.

    from replayer.synthetic import SyntheticO2IMS, SynthRequest
    model = SyntheticO2IMS()
    model.handle(SynthRequest("GET", "/o2ims-infrastructureInventory/v1/deploymentManagers"))

Module map, each importing only modules listed before it: ``profile`` (YAML -> dataclasses), ``model``
(the objects), ``state`` (per session), ``answers`` (request, response, their builders), ``notify``
(notifications into an outbox), ``services`` (what handlers may ask of the model), ``context`` (the
per-request ``Ctx`` and the one handler signature), ``generic`` (shared handlers and the builders),
``subscriptions``, the APIs ``inventory``/``monitoring``/``provisioning``/``cluster``/``artifacts``,
``legacy`` (the earlier mock's paths), ``table`` (every route bound to its handlers), ``api``
(``SyntheticO2IMS``). The HTTP side (admin routes, ``/docs``, notification delivery) is in
``replayer.server``. Docs: docs/synthetic.md.
"""

from replayer.synthetic.api import SynthRequest, SynthResponse, SyntheticO2IMS
from replayer.synthetic.profile import Profile, load_profile, parse_profile

__all__ = [
    "Profile",
    "SynthRequest",
    "SynthResponse",
    "SyntheticO2IMS",
    "load_profile",
    "parse_profile",
]
