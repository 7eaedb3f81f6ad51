"""`GET /clusters/{c}/runs/events`: every change of a cluster's runs through one stream
(docs/ARCHITECTURE.md, "Event streams")."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..event_log import Event
from ..streaming import event_stream, keep_alive, query_ids, resume_point


async def run_events(request: Request) -> Response:
    """Each event's data is the run's detail `{run, jobs, inputRequests}`, as `GET` of the run gives it."""
    engine, cluster_id = request.app.state.runs, request.path_params["cluster_id"]
    engine.cluster(cluster_id)  # an unknown cluster is a 404 naming the known ones, before the stream starts
    items = engine.events.subscribe(
        after=resume_point(request), scope=cluster_id, ids=query_ids(request), idle=keep_alive(request)
    )

    def render(event: Event) -> str:
        return event.payload  # already JSON text

    return event_stream(request, items, render, event="run")


# Before `/clusters/{cluster_id}/runs/{run_id}`, which would take "events" for a run id.
ROUTES = [Route("/clusters/{cluster_id}/runs/events", run_events, methods=["GET"])]
