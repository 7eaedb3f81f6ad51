"""What an Ask costs with the bundled model: wall time and tokens, against the deterministic planner.

    python benchmarks/model_planner.py [--rounds 5] [--threads N]

Needs the extra local-llm (`./dev test` installs it). Two embedded servers offer the demo inventory
functions: one plans with SmolLM2-135M-Instruct (served by llama-cpp-python on loopback), the other
deterministically, the baseline. Each round asks both the same question with the spec's result
schema, interleaved; it prints the median and min–max of each, their ratio, and the model's tokens,
requests and seconds per Ask (the run's `plannerUsage`).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from inference_nb.server import LocalModel, start_server
from inference_nb.server.runs.builtin import inventoryValue, searchInventory

QUESTION = "What does our inventory look like?"
SCHEMA = {
    "type": "array",
    "items": {"type": "object", "properties": {"name": {"type": "string"}, "qty": {"type": "number"}}},
}


def ask(url: str, token: str) -> tuple[float, dict[str, Any]]:
    """(wall seconds, the run) of one Ask, from POST to the run's end."""
    with httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=300) as http:
        started = time.perf_counter()
        body = {"message": QUESTION, "result": {"schema": SCHEMA}}
        run_id = http.post("/clusters/bench/runs", json=body).json()["id"]
        with http.stream("GET", f"/clusters/bench/runs/{run_id}/stream") as stream:
            for _ in stream.iter_lines():  # one line per change; it ends with the run
                pass
        elapsed = time.perf_counter() - started
        return elapsed, http.get(f"/clusters/bench/runs/{run_id}").json()["run"]


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for the model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, LocalModel(threads=args.threads) as model:
        started = [
            start_server(data_dir=Path(data) / "model", llm_url=model.url, llm_model=model.settings().model),
            start_server(data_dir=Path(data) / "deterministic"),
        ]
        for server in started:
            for fn in (searchInventory, inventoryValue):
                server.function(fn, service="example", cluster="bench")
        with started[0] as planned, started[1] as baseline:
            ask(planned.url, planned.token)  # warm: the model's first prompt fills its cache
            model_times, baseline_times, runs = [], [], []
            for _ in range(args.rounds):
                elapsed, run = ask(planned.url, planned.token)
                model_times.append(elapsed)
                runs.append(run)
                baseline_times.append(ask(baseline.url, baseline.token)[0])
    usage = [r.get("plannerUsage") or {} for r in runs]
    print(f"Ask with {runs[0]['plannedBy']}, {args.rounds} interleaved rounds")
    print(f"  model planner:         {spread(model_times)}")
    print(f"  deterministic planner: {spread(baseline_times)}")
    print(f"  ratio (medians):       {statistics.median(model_times) / statistics.median(baseline_times):.0f}x")
    for key in ("requests", "promptTokens", "completionTokens", "seconds"):
        values = [u.get(key, 0) for u in usage]
        print(f"  {key} per Ask: median {statistics.median(values)} (min {min(values)}, max {max(values)})")
    fitting = sum(r["result"] is not None for r in runs)
    print(f"  runs with a result fitting the schema: {fitting} of {len(runs)}; statuses {[r['status'] for r in runs]}")


if __name__ == "__main__":
    main()
