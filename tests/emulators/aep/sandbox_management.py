"""Sandbox Management (`/data/foundation/sandbox-management`): what kind of sandbox a name is, for the acceptance
suite's refusal of production sandboxes (issue: `type` is `production` or `development`)."""

from __future__ import annotations

from tests.emulators.aep.core import SANDBOXES, AepCore
from tests.emulators.aep.errors import titled
from tests.emulators.http import Request, Response


class SandboxManagementApi(AepCore):
    """`GET /sandboxes/{name}`: the sandbox's name, title, type and state; `prod` is the production sandbox."""

    production_sandboxes: tuple[str, ...] = ("prod",)

    def _sandbox_management_routes(self) -> None:
        self.route("GET", f"{SANDBOXES}/sandboxes/{{name}}", "sandboxes.get", self._sandbox_get)

    def _sandbox_get(self, request: Request) -> Response:
        name = request.params["name"]
        if name not in self.sandboxes:
            raise titled(404, "Not Found", f"sandbox {name!r} does not exist in this org")
        kind = "production" if name in self.production_sandboxes else "development"
        return Response(200, {"name": name, "title": name.title(), "type": kind, "state": "active", "region": "VA7"})
