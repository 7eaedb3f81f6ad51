"""Functions of the `demo` cluster, so that a question works offline out of the box.

They answer from the inventory bundled with the `demo/sql` app. `restock`
requires approval, to show a paused run and its input request.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path
from typing import Any

from .functions import Clusters, make_function

DEMO_CLUSTER = "demo"
INVENTORY_CSV = Path(__file__).parent.parent / "apps" / "builtin" / "data" / "inventory.csv"


@cache
def _inventory() -> tuple[dict[str, Any], ...]:
    with INVENTORY_CSV.open(newline="") as file:
        return tuple({**row, "qty": int(row["qty"]), "price": float(row["price"])} for row in csv.DictReader(file))


def searchInventory(name: str | None = None, category: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Search the inventory: every item with its name, category, qty (units in stock), price and warehouse.
    Filter by part of an item name or by category."""
    items = [
        item
        for item in _inventory()
        if (name is None or name.lower() in item["name"].lower())
        and (category is None or category.lower() == item["category"].lower())
    ]
    return items[: max(0, limit)]


def inventoryValue(category: str | None = None) -> dict[str, Any]:
    """Total value (qty times price) and units of the stock in the inventory, optionally of one category."""
    items = searchInventory(category=category, limit=10**6)
    return {
        "category": category or "all",
        "items": len(items),
        "units": sum(i["qty"] for i in items),
        "value": round(sum(i["qty"] * i["price"] for i in items), 2),
    }


def restock(name: str, qty: int) -> dict[str, Any]:
    """Order more units of an inventory item (needs approval): returns the order."""
    matches = searchInventory(name=name, limit=1)
    if not matches:
        raise ValueError(f"no inventory item matches {name!r}")
    if qty <= 0:
        raise ValueError("qty must be a positive number of units")
    return {"name": matches[0]["name"], "ordered": qty, "status": "ordered"}


def register_demo_functions(clusters: Clusters) -> None:
    cluster = clusters.ensure(DEMO_CLUSTER)
    for fn in (searchInventory, inventoryValue):
        cluster.register(make_function(fn, service="example"))
    cluster.register(make_function(restock, service="example", requires_approval=True))
