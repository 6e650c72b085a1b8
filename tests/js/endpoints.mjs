// The official JavaScript client (@fal-ai/client) against any endpoint a running fal-mock serves.
//
//   node endpoints.mjs <base url> <key> <JSON: [{"id": ..., "input": {...}}, ...]>
//
// Subscribes to each endpoint through the `fetch` override (fal's hosts rewritten to the mock's path
// prefixes) and prints one JSON line per endpoint: {"mode": "fetch", "check": <id>, "ok", "data", "states"}.
// The pytest driver (tests/mock_server/jobs/test_any_endpoint_js.py) asserts on them; this only observes.
import { toMock } from "./mock-hosts.mjs";
import { createFalClient } from "@fal-ai/client";

const [base, key, jobs] = process.argv.slice(2);
if (!base || !key || !jobs) {
  console.error("usage: node endpoints.mjs <base url> <key> <jobs JSON>");
  process.exit(2);
}
const rewrite = toMock(base);
const fal = createFalClient({ credentials: key, fetch: (url, init) => fetch(rewrite(url), init) });

for (const { id, input } of JSON.parse(jobs)) {
  const states = [];
  try {
    const result = await fal.subscribe(id, {
      input,
      pollInterval: 10,
      onQueueUpdate: (update) => states.push(update.status),
    });
    console.log(JSON.stringify({ mode: "fetch", check: id, ok: true, data: result.data, requestId: result.requestId, states }));
  } catch (error) {
    console.log(JSON.stringify({ mode: "fetch", check: id, ok: false, error: String(error?.message ?? error), body: error?.body }));
  }
}
