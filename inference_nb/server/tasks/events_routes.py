"""`GET /tasks/events`: every change of every task through one stream (docs/ARCHITECTURE.md, "Event streams")."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from inference_nb.wire.statuses import DIALECT_HEADER

from ..dialects import answer_dialect
from ..event_log import Event
from ..requests import base_url
from ..streaming import event_stream, keep_alive, query_ids, resume_point
from .views import public_task


async def task_events(request: Request) -> Response:
    """Each event's data is the task object, all in one dialect: the header's, else spec (as a list)."""
    dialect = answer_dialect(request)
    after, ids = resume_point(request), query_ids(request)
    base = base_url(request)
    items = request.app.state.engine.events.subscribe(after=after, ids=ids, idle=keep_alive(request))

    def render(event: Event) -> str:
        return json.dumps(public_task(event.payload, base, dialect))

    response = event_stream(request, items, render, event="task")
    response.headers[DIALECT_HEADER] = dialect.value
    return response


# Before `/tasks/{task_id}`, which would take "events" for a task id.
ROUTES = [Route("/tasks/events", task_events, methods=["GET"])]
