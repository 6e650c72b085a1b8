"""What ``fal-mock serve`` logs once it accepts connections: where to look and how to point a client at it.

:func:`startup_lines` gives the lines after "fal-mock is serving at URL": the dashboard and index
links, the progression with the time a job takes under it, the served endpoints (how many, and the
first :data:`SHOWN_ENDPOINTS`), and the ``fal-mock env`` / ``fal-mock run`` commands for this
server.  Pure: a function of the ready-file facts and the app's services (no clock, no I/O).
"""

from __future__ import annotations

import shlex
from typing import Any

from ..jobs.progression import MANUAL, REALISTIC, polls_per_state
from ..services import MockServices

#: Endpoint ids named in the log (the rest are counted).
SHOWN_ENDPOINTS = 3


def expected_job_time(mock: MockServices) -> str:
    """How long a job takes under the server's progression, in words."""
    settings = mock.settings
    progression = settings.progression
    if progression == REALISTIC:
        spans = []
        for endpoint_id in mock.registry.ids():
            endpoint = mock.registry.get(endpoint_id)
            if endpoint is not None:
                spans.append((endpoint.queue_seconds[0] + endpoint.inference_seconds[0],
                              endpoint.queue_seconds[1] + endpoint.inference_seconds[1]))  # fmt: skip
        if not spans:
            return "realistic timings"
        low = min(span[0] for span in spans) * settings.realistic_time_scale
        high = max(span[1] for span in spans) * settings.realistic_time_scale
        return (f"a job takes about {low:.0f}-{high:.0f} s on the wall clock (queue wait + inference; "
                f"{settings.realistic_concurrency} runners per endpoint; --set realistic_time_scale=0.1 is ten "
                "times faster)")  # fmt: skip
    if progression == MANUAL:
        return "jobs wait until moved: POST /_mock/jobs/{id}/advance, /_mock/jobs/complete-all, or the dashboard"
    per_state = polls_per_state(progression)
    if per_state is not None:
        return f"each state is seen by {per_state} status read(s), then the job moves on"
    return "jobs complete as soon as they are submitted"


def startup_lines(info: dict[str, Any], mock: MockServices | None, ready_file: str | None) -> list[str]:
    """The lines logged after the "serving at" line (see the module docstring)."""
    url = str(info["url"])
    lines = [f"  dashboard: {url}/_mock/   index: {url}/   health: {url}/_mock/health"]
    if mock is not None:
        ids = mock.registry.ids()
        shown = ", ".join(ids[:SHOWN_ENDPOINTS]) + (f", ... ({len(ids) - SHOWN_ENDPOINTS} more)"
                                                    if len(ids) > SHOWN_ENDPOINTS else "")  # fmt: skip
        lines.append(f"  progression: {mock.settings.progression}: {expected_job_time(mock)}")
        lines.append(f"  endpoints: {len(ids)} served: {shown} (all: {url}/_mock/health)")
    if ready_file:
        where = f"--ready-file {shlex.quote(ready_file)}"
    else:
        where = f"--url {url}" + (f" --ca-file {shlex.quote(str(info['ca_file']))}" if info.get("ca_file") else "")
    lines.append(f'  python client: eval "$(fal-mock env {where})"   or: fal-mock run {where} -- python app.py')
    if not url.startswith("https://"):
        lines.append("  note: the official Python client speaks https only unless run through fal-mock env/run; "
                     "add --tls to test TLS too")  # fmt: skip
    return lines
