"""The per-request context of the synthetic O2IMS, and the one handler signature: ``(ctx) -> SynthResponse``.

Handlers read ``ctx.model`` (static) and ``ctx.state`` (the session), reach time and notifications
through ``ctx.services`` (``replayer.synthetic.services``), and answer through the builders here and in
``replayer.synthetic.answers``: compact JSON, ProblemDetails for errors, a ``Link`` header for the next page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replayer import limits
from replayer.o2ims.query import Query, next_link, parse_query, project, select
from replayer.o2ims.routes import Route, always_kept, default_excluded
from replayer.synthetic.answers import SynthRequest, SynthResponse, instance_url, json_response, problem
from replayer.synthetic.model import Model
from replayer.synthetic.services import Services
from replayer.synthetic.state import SessionState

__all__ = ["Ctx", "Handler"]


@dataclass(slots=True)
class Ctx:
    """What a handler sees: the request, its route and path parameters, the model, the session, the services.

    ``route`` is None on the earlier mock's paths, which no route of the definitions describes. The
    session's state is fetched on first use, so an answer that needs none creates no session.
    """

    req: SynthRequest
    path: str
    route: Route | None
    params: dict[str, str]
    services: Services
    known_state: SessionState | None = None
    cacheable: bool = True  # set False by handlers whose answer depends on session state

    @property
    def model(self) -> Model:
        """The static inventory."""
        return self.services.model

    @property
    def state(self) -> SessionState:
        """The state of this request's session."""
        if self.known_state is None:
            self.known_state = self.services.session(self.req.session)
        return self.known_state

    @property
    def api(self) -> str:
        """The route's O2IMS API (``infrastructureInventory``...); empty on the earlier mock's paths."""
        return self.route.api if self.route is not None else ""

    @property
    def version(self) -> str | None:
        """The route's API version (``v1``, ``v2``); None when the path has none."""
        return self.route.version if self.route is not None else None

    @property
    def method(self) -> str:
        """The request method (HEAD is answered as GET)."""
        return "GET" if self.req.method == "HEAD" else self.req.method

    def query(self) -> Query:
        """The O2IMS query parameters; QueryError when malformed."""
        return parse_query(self.req.query)

    def problem(self, status: int, detail: str, headers: Mapping[str, str] | None = None) -> SynthResponse:
        """A ProblemDetails answer whose instance is this request's URL (the definitions type it a URI)."""
        return problem(status, detail, self.instance, headers)

    @property
    def instance(self) -> str:
        """The absolute URL of this request (ProblemDetails.instance)."""
        return instance_url(self.req.base_url, self.path)

    def not_found(self, what: str, ident: str) -> SynthResponse:
        """404 for an unknown id."""
        return self.problem(404, f"{what} {ident!r} not found")

    def collection(self, items: Sequence[Mapping[str, Any]]) -> SynthResponse:
        """A list answer with filter, selectors and paging applied (SOL013 5.2-5.4)."""
        query = self.query()
        page = select(
            items, query, default_excluded=default_excluded(self.route),
            page_size=self.model.profile.page_size, scope=self.path, keep=always_kept(self.route),
        )
        headers = {}
        if page.next_marker is not None:
            headers["Link"] = next_link(self.req.base_url, self.path, self.req.query, page.next_marker)
        return json_response(200, page.items, headers)

    def item(self, obj: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None) -> SynthResponse:
        """One object, with attribute selectors applied."""
        query = self.query()
        selected = project(obj, query, default_excluded=default_excluded(self.route), keep=always_kept(self.route))
        return json_response(status, selected, headers)

    def body_json(self) -> Any:
        """The request body as JSON; ValueError with a one-line reason when it is not."""
        if not self.req.body:
            raise ValueError("request body is empty; a JSON object is required")
        try:
            return limits.loads(self.req.body)
        except ValueError as e:  # not UTF-8, not JSON, or nested deeper than the limit
            raise ValueError(f"request body is not valid JSON: {e}") from None


#: A request handler: the context in, the answer out.
Handler = Callable[[Ctx], SynthResponse]
