"""`client.map` in a process of its own (a kernel the tests can kill): `python map_in_child.py SPEC`.

SPEC is JSON: {"url", "token", "app", "rows", "concurrency"}; the client speaks the hosted dialect
(no Idempotency-Key kept). Prints the result's status, run_id and from_ledger columns as JSON.
"""

from __future__ import annotations

import json
import sys

from inference_nb import Client, hosted_tasks


def main() -> None:
    spec = json.loads(sys.argv[1])
    client = Client(tasks=hosted_tasks(spec["token"], base_url=spec["url"]), wait_timeout=120)
    frame = client.map(spec["app"], spec["rows"], concurrency=spec["concurrency"], progress=False)
    print(json.dumps({name: frame[name].tolist() for name in ("status", "run_id", "from_ledger")}))


if __name__ == "__main__":
    main()
