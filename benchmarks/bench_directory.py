"""Benchmark the service directory: the demo load, the ORUK API and the resident search.

Run: .venv/bin/python benchmarks/bench_directory.py [--people 30000] [--copies 10]
Builds a throwaway SQLite database, generates a synthetic borough, loads the demo
directory (about 150 services), then imports ``--copies`` renamed copies of it as other
boroughs' feeds (so the directory holds about 150 x (copies + 1) services), and times:
the import of one feed, ``/openreferral/services`` pages, a fully nested service,
``/service_at_locations`` by postcode and proximity, and the public search page (Django
test client, in process; server time only). Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from timing import on_scratch_sqlite, table_row, time_ms


def _copy(feed: list[dict[str, object]], n: int) -> list[dict[str, object]]:
    """The feed with every id renamed, as if another borough had sent it."""
    text = json.dumps(feed)
    ids = set()
    for service in feed:
        ids.update(_ids(service))
    for old in ids:
        text = text.replace(old, str(uuid.uuid5(uuid.UUID(old), f"copy{n}")))
    out: list[dict[str, object]] = json.loads(text)
    return out


def _ids(item: object) -> list[str]:
    found: list[str] = []
    if isinstance(item, dict):
        for key, value in item.items():
            if key == "id" and isinstance(value, str):
                found.append(value)
            else:
                found += _ids(value)
    elif isinstance(item, list):
        for value in item:
            found += _ids(value)
    return found


def run(people: int, copies: int, tmp: Path) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0)
    from joinedup.directory import demo, feeds, services
    from joinedup.directory.exports import directory_feed
    from joinedup.directory.models import Postcode, Service
    from joinedup.synth import generate_borough

    borough = tmp / "borough"
    generate_borough(people=people, seed=1, out=borough)
    rows = []
    started = time.perf_counter()
    demo.demo_load(borough, progress=lambda *_: None)
    rows.append(
        table_row(
            "demo load (postcodes + ~150 services)", [(time.perf_counter() - started) * 1000], 0
        )
    )
    base = directory_feed()
    for n in range(copies):
        copy = _copy(base, n)
        started = time.perf_counter()
        services.feed_import(
            feed=feeds.FeedReader(f"copy {n}").read(copy), source=f"copy {n}", filename="bench"
        )
        if n == 0:
            rows.append(
                table_row(
                    f"import one feed of {len(copy)} services",
                    [(time.perf_counter() - started) * 1000],
                    0,
                )
            )
    client = Client()
    total = Service.objects.count()
    postcode = Postcode.objects.order_by("postcode").first()
    assert postcode is not None
    one = Service.objects.order_by("name").first()
    assert one is not None
    cases = [
        (
            f"/services page of 50 ({total:,} services)",
            "/openreferral/services",
            {"per_page": "50"},
        ),
        ("/services search 'falls'", "/openreferral/services", {"search": "falls"}),
        ("/services/{id} fully nested", f"/openreferral/services/{one.pk}", {}),
        (
            "/service_at_locations postcode + 3 km",
            "/openreferral/service_at_locations",
            {"postcode": postcode.postcode, "proximity": "3000"},
        ),
        (
            "public search 'falls' + postcode",
            "/directory/find/",
            {"need": "falls", "postcode": postcode.postcode},
        ),
    ]
    for name, path, params in cases:

        def call(path: str = path, params: dict[str, str] = params) -> None:
            response = client.get(path, params)
            assert response.status_code == 200, response.content[:300]

        call()
        rows.append(table_row(name, time_ms(call, 20), 1))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    on_scratch_sqlite(lambda folder: run(args.people, args.copies, folder))


if __name__ == "__main__":
    main()
