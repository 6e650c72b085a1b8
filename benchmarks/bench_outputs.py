"""Output building speed: ``build_output`` on the transcribed fal Output schemas (tests/mock_server/outputs/data).

Run: ``.venv/bin/python benchmarks/bench_outputs.py [--repeat 50]``

For each fixture it builds the output ``--repeat`` times (same inputs, a fresh walker each time, so
nothing is cached between builds) with a media maker that makes no bytes (the test fake), and prints
the median and p95 wall time per build, the median when the schema is prepared once as a ``SchemaDoc``
and reused (no metaschema check per build), and the output's size. This measures the schema walk, value
generation and the final Draft 2020-12 validation only; making the media is the media package's cost.
A 30-minute transcript (``wizper`` with a measured 1800 s input) is reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fal_mock.mock_server.outputs import InputFacts, SchemaDoc, build_output  # noqa: E402

from tests.mock_server.outputs.fakes import FakeMaker, fixture_names, load_fixture  # noqa: E402


def timed(
    fixture: dict[str, Any], repeat: int, inputs: InputFacts | None = None, *, prepared: bool = False
) -> tuple[list[float], int]:
    times: list[float] = []
    size = 0
    doc = SchemaDoc(fixture["output_schema"]) if prepared else None
    for _ in range(repeat):
        start = time.perf_counter()
        output = build_output(
            doc or fixture["output_schema"],
            arguments=fixture["arguments"],
            category=fixture["category"],
            seed=b"bench",
            media=FakeMaker(),
            inputs=inputs,
        )
        times.append(time.perf_counter() - start)
        size = len(json.dumps(output))
    return times, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    print(f"{'fixture':36} {'median ms':>10} {'p95 ms':>8} {'prepared':>9} {'bytes':>7}")
    medians, prepared_medians = [], []
    for name in fixture_names():
        times, size = timed(load_fixture(name), args.repeat)
        prepared, _ = timed(load_fixture(name), args.repeat, prepared=True)
        times.sort()
        medians.append(statistics.median(times))
        prepared_medians.append(statistics.median(prepared))
        p95 = times[max(0, int(len(times) * 0.95) - 1)]
        print(f"{name:36} {medians[-1] * 1e3:10.2f} {p95 * 1e3:8.2f} {prepared_medians[-1] * 1e3:9.2f} {size:7}")
    summary = f"{statistics.median(medians) * 1e3:10.2f} {'':8} {statistics.median(prepared_medians) * 1e3:9.2f}"
    print(f"{'all fixtures, median of medians':36} {summary}")
    times, size = timed(load_fixture("wizper"), max(3, args.repeat // 10), InputFacts(durations={"audio_url": 1800.0}))
    print(f"{'wizper, 1800 s transcript':36} {statistics.median(times) * 1e3:10.2f} {'':8} {size:7}")


if __name__ == "__main__":
    main()
