"""Artifacts API handlers: managedInfrastructureTemplates, one template, and its defaults."""

from __future__ import annotations

from replayer.synthetic.context import Ctx, Handler, SynthResponse
from replayer.synthetic.inventory import api_versions, find

__all__ = ["HANDLERS"]

API = "infrastructureArtifacts"
_ID = "managedInfrastructureTemplateId"


def list_templates(ctx: Ctx) -> SynthResponse:
    """Every template of the profile."""
    return ctx.collection(ctx.model.templates)


def get_template(ctx: Ctx) -> SynthResponse:
    """One template, by its artifactResourceId."""
    found = find(ctx.model.templates, "artifactResourceId", ctx.params[_ID])
    return ctx.item(found) if found is not None else ctx.not_found("managed infrastructure template", ctx.params[_ID])


def get_defaults(ctx: Ctx) -> SynthResponse:
    """A template's defaults (clusterInstanceDefaults, policyTemplateDefaults)."""
    defaults = ctx.model.template_defaults.get(ctx.params[_ID])
    if defaults is None:
        return ctx.not_found("managed infrastructure template", ctx.params[_ID])
    return ctx.item(defaults)


HANDLERS: dict[tuple[str, str], dict[str, Handler]] = {
    (API, "/api_versions"): {"GET": api_versions},
    (API, "/managedInfrastructureTemplates"): {"GET": list_templates},
    (API, f"/managedInfrastructureTemplates/{{{_ID}}}"): {"GET": get_template},
    (API, f"/managedInfrastructureTemplates/{{{_ID}}}/defaults"): {"GET": get_defaults},
}
