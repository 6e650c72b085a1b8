"""The official ``fal_client`` flows the issue names, as functions shared by the in-process and TLS tests.

Each flow uses only the unmodified public API of fal-client 1.0.3 and returns plain data
that the tests assert on. Run as a script (``python official_flows.py``) it executes every
flow against whatever hosts ``FAL_RUN_HOST``/``FAL_QUEUE_RUN_HOST`` name (the environment
``fal-mock env`` prints) and prints one JSON document — that is how the TLS test drives a
``fal-mock serve --tls`` subprocess without touching this process's imported fal_client.
"""

from __future__ import annotations

import base64
import io
import json
import sys
from typing import Any

import fal_client
import httpx
from PIL import Image

LUCY = "fal-ai/decart/lucy-5b/image-to-video"
MINIMAX = "fal-ai/minimax-video/image-to-video"
ENDPOINTS = (LUCY, MINIMAX)


def image_data_uri() -> str:
    image = Image.new("RGB", (128, 72), (30, 120, 200))
    for x in range(0, 128, 16):
        image.paste((220, 200, 40), (x, 0, x + 8, 72))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def arguments(endpoint: str) -> dict[str, Any]:
    args: dict[str, Any] = {"prompt": "a calm pan across stripes", "image_url": image_data_uri()}
    if endpoint == LUCY:
        args["sync_mode"] = False
    return args


def download(url: str) -> bytes:
    if url.startswith("data:"):
        return base64.b64decode(url.split(",", 1)[1])
    return httpx.get(url).content


def subscribe_flow(client: fal_client.SyncClient, endpoint: str) -> dict[str, Any]:
    updates: list[dict[str, Any]] = []

    def on_update(update: fal_client.Status) -> None:
        logs = getattr(update, "logs", None)
        updates.append({"kind": type(update).__name__, "logs": len(logs) if logs else 0})

    enqueued: list[str] = []
    result = client.subscribe(
        endpoint,
        arguments(endpoint),
        with_logs=True,
        on_queue_update=on_update,
        on_enqueue=enqueued.append,
        interval=0,
    )
    return {
        "updates": updates,
        "enqueued": enqueued,
        "video": result["video"],
        "bytes": len(download(result["video"]["url"])),
    }


def submit_status_result_flow(client: fal_client.SyncClient, endpoint: str) -> dict[str, Any]:
    handle = client.submit(endpoint, arguments(endpoint))
    statuses = [type(client.status(endpoint, handle.request_id, with_logs=True)).__name__ for _ in range(6)]
    result = client.result(endpoint, handle.request_id)
    return {"request_id": handle.request_id, "statuses": statuses, "video": result["video"]}


def cancel_flow(client: fal_client.SyncClient, endpoint: str) -> dict[str, Any]:
    handle = client.submit(endpoint, arguments(endpoint))
    client.cancel(endpoint, handle.request_id)  # 202 while queued
    status = client.status(endpoint, handle.request_id)
    try:
        client.cancel(endpoint, handle.request_id)
        second = "accepted"
    except fal_client.FalClientHTTPError as error:
        second = f"{error.status_code}"
    return {"status": type(status).__name__, "error_type": getattr(status, "error_type", None), "second_cancel": second}


def run_flow(client: fal_client.SyncClient, endpoint: str) -> dict[str, Any]:
    result = client.run(endpoint, arguments(endpoint))
    return {"video": result["video"]}


def missing_prompt_flow(client: fal_client.SyncClient) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    try:
        client.run(MINIMAX, {"image_url": image_data_uri()})
    except fal_client.FalClientHTTPError as error:
        outcome["run"] = {"status": error.status_code, "message": error.message}
    try:
        client.subscribe(MINIMAX, {"image_url": image_data_uri()}, interval=0)
    except fal_client.FalClientHTTPError as error:
        outcome["subscribe"] = {"status": error.status_code, "message": error.message}
    return outcome


def main() -> None:
    client = fal_client.SyncClient()
    report: dict[str, Any] = {"missing_prompt": missing_prompt_flow(client)}
    for endpoint in ENDPOINTS:
        report[endpoint] = {
            "subscribe": subscribe_flow(client, endpoint),
            "submit": submit_status_result_flow(client, endpoint),
            "cancel": cancel_flow(client, endpoint),
            "run": run_flow(client, endpoint),
        }
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
