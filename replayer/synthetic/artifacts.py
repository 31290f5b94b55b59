"""Artifacts API: managedInfrastructureTemplates, one template (by its artifactResourceId), its defaults."""

from __future__ import annotations

from replayer.synthetic.answers import SynthResponse
from replayer.synthetic.context import Ctx, Handler

__all__ = ["HANDLERS"]

API = "infrastructureArtifacts"
_ID = "managedInfrastructureTemplateId"


def get_defaults(ctx: Ctx) -> SynthResponse:
    """A template's defaults (clusterInstanceDefaults, policyTemplateDefaults)."""
    defaults = ctx.model.template_defaults.get(ctx.params[_ID])
    if defaults is None:
        return ctx.not_found("managed infrastructure template", ctx.params[_ID])
    return ctx.item(defaults)


#: What the route table cannot generate.
HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, f"/managedInfrastructureTemplates/{{{_ID}}}/defaults"): {"GET": get_defaults},
}
