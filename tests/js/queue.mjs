// The official JavaScript client (@fal-ai/client, pinned in package.json) against a running fal-mock.
//
//   node queue.mjs <base url> <key> <image data URI>
//
// Runs every check twice — through the `fetch` override that rewrites fal's hosts to the mock's
// path prefixes, and through `proxyUrl: {url: <base>/proxy, when: "always"}` — and prints one JSON
// line per check: {"mode", "check", "ok", ...facts}. The pytest driver
// (tests/contract_suite/test_js_client.py) asserts on the facts; this script only observes.
import { toMock } from "./mock-hosts.mjs";
import { fal, createFalClient, ApiError, ValidationError } from "@fal-ai/client";

const [base, key, image] = process.argv.slice(2);
if (!base || !key || !image) {
  console.error("usage: node queue.mjs <base url> <key> <image data URI>");
  process.exit(2);
}

const MINIMAX = "fal-ai/minimax-video/image-to-video";
const UNKNOWN_ID = "019e0000-0000-7000-8000-000000000000";
const BAD_KEY = "00000000-0000-0000-0000-000000000000:0000000000000000000000000000000";
const STEP_BY_STEP = { "x-fal-mock-progression": "polls:1" };
const HELD = { "x-fal-mock-progression": "manual" };
const input = { prompt: "a slow pan over a checkerboard", image_url: image };

const rewrite = toMock(base);

// Observes (never changes) what fetch did: a redirect means the mock did not answer where the client asked.
let redirects = 0;
const observed = (url, init) =>
  fetch(url, init).then((response) => {
    if (response.redirected) redirects += 1;
    return response;
  });

const configs = {
  fetch: (credentials) => ({ credentials, fetch: (url, init) => observed(rewrite(url), init) }),
  proxy: (credentials) => ({ credentials, fetch: observed, proxyUrl: { url: `${base}/proxy`, when: "always" } }),
};

function describeError(error) {
  return {
    name: error?.name,
    isApiError: error instanceof ApiError,
    isValidationError: error instanceof ValidationError,
    status: error?.status,
    body: error?.body,
    requestId: error?.requestId,
    message: String(error?.message ?? error),
    fieldErrors: error instanceof ValidationError ? error.fieldErrors : undefined,
  };
}

async function expectError(promise) {
  try {
    const value = await promise;
    return { rejected: false, value };
  } catch (error) {
    return { rejected: true, error: describeError(error) };
  }
}

function summary(update) {
  return { status: update.status, logs: Array.isArray(update.logs) ? update.logs.length : null };
}

const checks = {
  // fal.subscribe, polling: onQueueUpdate sees every state, logs come along, result via queue.result
  async subscribe_polling() {
    const updates = [];
    const result = await fal.subscribe(MINIMAX, {
      input, logs: true, mode: "polling", pollInterval: 10, headers: STEP_BY_STEP,
      onQueueUpdate: (update) => updates.push(summary(update)),
    });
    return { updates, requestId: result.requestId, video: result.data.video };
  },

  // fal.subscribe, streaming: the SSE status stream drives onQueueUpdate; done() resolves when the mock closes it
  async subscribe_streaming() {
    const updates = [];
    const result = await fal.subscribe(MINIMAX, {
      input, logs: true, mode: "streaming", headers: STEP_BY_STEP,
      onQueueUpdate: (update) => updates.push(summary(update)),
    });
    return { updates, requestId: result.requestId, video: result.data.video };
  },

  // queue.submit / status / streamStatus / result, and cancel of a finished request
  async queue_flow() {
    const submitted = await fal.queue.submit(MINIMAX, { input, headers: STEP_BY_STEP });
    const requestId = submitted.request_id;
    const status = await fal.queue.status(MINIMAX, { requestId, logs: true });
    const stream = await fal.queue.streamStatus(MINIMAX, { requestId, logs: true });
    const events = [];
    stream.on("data", (event) => events.push(summary(event)));
    const last = await stream.done();
    const result = await fal.queue.result(MINIMAX, { requestId });
    const cancelDone = await expectError(fal.queue.cancel(MINIMAX, { requestId }));
    return {
      submitted, status: summary(status), events, last: summary(last),
      resultRequestId: result.requestId, video: result.data.video, requestId, cancelDone,
    };
  },

  // cancel of a queued request: resolves (202), and the request then completes as cancelled
  async cancel_queued() {
    const { request_id: requestId } = await fal.queue.submit(MINIMAX, { input, headers: HELD, priority: "low" });
    const before = await fal.queue.status(MINIMAX, { requestId });
    const cancelled = await expectError(fal.queue.cancel(MINIMAX, { requestId }));
    const after = await fal.queue.status(MINIMAX, { requestId });
    return { before: before.status, position: before.queue_position, cancelled, after };
  },

  // fal.run: the output directly, requestId from x-fal-request-id
  async run() {
    const result = await fal.run(MINIMAX, { input });
    return { requestId: result.requestId, video: result.data.video };
  },

  // a 422 from fal.run surfaces as ValidationError with fal's body
  async run_validation_error() {
    return expectError(fal.run(MINIMAX, { input: { image_url: image } }));
  },

  // a request that fails in the runner: subscribe rejects with the replayed 422 from queue.result
  async subscribe_failed_request() {
    const updates = [];
    const outcome = await expectError(fal.subscribe(MINIMAX, {
      input: { image_url: image }, mode: "polling", pollInterval: 10, headers: STEP_BY_STEP,
      onQueueUpdate: (update) => updates.push(update.status),
    }));
    return { ...outcome, updates };
  },

  // unknown request id: ApiError 404 with fal's body
  async status_not_found() {
    return expectError(fal.queue.status(MINIMAX, { requestId: UNKNOWN_ID }));
  },

  // a key fal does not know: ApiError 401 with fal's body
  async unauthorized(mode) {
    const stranger = createFalClient(configs[mode](BAD_KEY));
    return expectError(stranger.run(MINIMAX, { input }));
  },
};

for (const mode of Object.keys(configs)) {
  fal.config(configs[mode](key));
  for (const [check, run] of Object.entries(checks)) {
    let line;
    redirects = 0;
    try {
      line = { mode, check, ok: true, ...(await run(mode)) };
    } catch (error) {
      line = { mode, check, ok: false, error: describeError(error) };
    }
    line.redirects = redirects;
    process.stdout.write(JSON.stringify(line) + "\n");
  }
}
