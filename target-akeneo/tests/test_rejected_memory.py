"""Issue 21: the retry of rejected products holds no per-product data for the whole run.

A unit test of `RejectedStore` (the state store is a plain SQLite file): with thousands of
products pending, the memory the store and one retry pass allocate stays under a bound
that the old in-memory key set alone exceeded.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from target_akeneo.rejected import RejectedStore

PENDING = 30_000
BOUND = 1_000_000  # bytes: one chunk of records, not 30,000 keys


def _fill(path: Path) -> None:
    store = RejectedStore(path, "http://pim", "products")
    for n in range(PENDING):
        store.keep("products", f"SKU-{n:06d}", {"sku": f"SKU-{n:06d}", "color": "PURPLE"}, "no")
    store.close()


def test_retrying_thousands_stays_under_a_memory_bound(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    _fill(path)
    tracemalloc.start()
    try:
        store = RejectedStore(path, "http://pim", "products")
        assert store.queue("products") == PENDING
        seen = 0
        for records in store.queued("products", 500):
            keys = [str(record["sku"]) for record in records]
            seen += len(records)
            # Half land, half are rejected again: both leave the retry.
            landed, refused = keys[::2], keys[1::2]
            assert store.answered("products", landed) == set(landed)
            store.resolve("products", landed)
            assert store.answered("products", refused) == set(refused)
            for key in refused:
                store.keep("products", key, {"sku": key, "color": "PURPLE"}, "again")
            store.flush()
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == PENDING
    assert peak < BOUND, f"peak {peak} bytes with {PENDING} pending"
    # Outcomes still come from the table: rejected again stays pending, landed is gone.
    assert store.count() == PENDING // 2
    assert store.answered("products", ["SKU-000001"]) == set()
    store.close()


def test_products_rejected_during_the_run_are_not_retried_in_it(tmp_path: Path) -> None:
    """Sent once per run: a product rejected by this run's own batch is not queued."""
    path = tmp_path / "cache.sqlite"
    store = RejectedStore(path, "http://pim", "products")
    store.keep("products", "OLD", {"sku": "OLD"}, "no")
    store.close()
    store = RejectedStore(path, "http://pim", "products")
    assert store.queue("products") == 1
    chunks = store.queued("products", 1)
    assert next(chunks) == [{"sku": "OLD"}]
    store.keep("products", "NEW", {"sku": "NEW"}, "no")
    store.flush()
    assert list(chunks) == []
    assert store.count() == 2
    store.close()
