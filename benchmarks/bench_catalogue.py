"""Catalogue start-up with 1,400 fal documents: load (index) time, first get, cached get, normalise-all.

Run: ``.venv/bin/python benchmarks/bench_catalogue.py [--documents 1400] [--repeat 5]``

It writes ``--documents`` realistic documents to a temporary directory: copies of the bundled fal
documents (seedream, flux, nano-banana, kling, wizper, trellis, ...; 4-13 KB each, fal's real layout)
each given its own endpoint id (``bench/<n>/<original id>``, substituted everywhere the id appears:
title, metadata, paths). Then, ``--repeat`` times, it builds ``Catalogue([dir])`` (bundled documents
included) and reports the best and median load time — the target is <= 1.5 s for 1,400 documents —
followed by the first ``get`` of one endpoint (one read, parse and normalisation), a cached ``get``
of the same id, and ``normalise_all()`` over every document (what a strict start-up that validates
everything would pay). Files stay in the page cache between repeats, as on a warm start.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fal_mock.mock_server.catalogue import Catalogue, bundled_documents


def write_documents(folder: Path, count: int) -> int:
    """Write ``count`` documents; returns their total size in bytes."""
    sources = []
    for item in bundled_documents():
        text = item.read_text(encoding="utf-8")
        endpoint_id = json.loads(text)["info"]["x-fal-metadata"]["endpointId"]
        sources.append((endpoint_id, text))
    total = 0
    for n in range(count):
        endpoint_id, text = sources[n % len(sources)]
        new_id = f"bench/{n:04d}/{endpoint_id}"
        body = text.replace(endpoint_id, new_id)
        path = folder / (new_id.replace("/", "__") + ".json")
        path.write_text(body, encoding="utf-8")
        total += len(body.encode())
    return total


def timed(action: object) -> tuple[float, object]:
    assert callable(action)
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        folder = Path(tmp)
        size = write_documents(folder, args.documents)
        print(
            f"documents: {args.documents} in {folder} ({size / 1e6:.1f} MB, {size / args.documents / 1e3:.1f} KB each)"
        )
        loads = []
        catalogue: Catalogue | None = None
        for _ in range(args.repeat):
            seconds, built = timed(lambda: Catalogue([folder]))
            assert isinstance(built, Catalogue)
            loads.append(seconds)
            catalogue = built
        assert catalogue is not None
        print(
            f"load (index {len(catalogue)} endpoints): best {min(loads):.3f} s, median {statistics.median(loads):.3f} s"
        )
        probe = f"bench/{args.documents // 2:04d}/fal-ai/flux/dev"
        if probe not in catalogue:
            probe = catalogue.ids()[len(catalogue) // 2]
        first, spec = timed(lambda: catalogue.get(probe))
        cached, again = timed(lambda: catalogue.get(probe))
        assert spec is not None
        assert spec is again
        print(f"first get ({probe}): {first * 1e3:.2f} ms; cached get: {cached * 1e6:.1f} us")
        fresh = Catalogue([folder])
        everything, specs = timed(fresh.normalise_all)
        assert isinstance(specs, list)
        assert len(specs) == len(fresh)
        print(
            f"normalise_all ({len(specs)} endpoints): {everything:.3f} s ({everything / len(specs) * 1e3:.2f} ms each)"
        )
        verdict = "within" if min(loads) <= 1.5 else "OVER"
        print(f"target: load <= 1.5 s for 1,400 documents: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
