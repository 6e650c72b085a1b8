// Submit with a webhook URL through the official @fal-ai/client, against a running fal-mock.
//
// Env: FAL_MOCK_URL (http://127.0.0.1:PORT), FAL_ENDPOINT, FAL_INPUT (JSON), WEBHOOK_URL.
// The client is pointed at the mock with its `fetch` option (protocol reference §6.2 (a)):
// fal's hosts are rewritten to the server's path prefixes. Prints one JSON line:
// {"submitted": <submit body>, "result": <queue.result data>, "requestId": <result requestId>}.
import { createFalClient } from "@fal-ai/client";
import { toMock } from "./mock-hosts.mjs";

const rewrite = toMock(process.env.FAL_MOCK_URL);

const fal = createFalClient({
  credentials: "fal-mock-key:fal-mock-secret",
  fetch: (url, init) => fetch(rewrite(url), init),
});

const endpoint = process.env.FAL_ENDPOINT;
const submitted = await fal.queue.submit(endpoint, {
  input: JSON.parse(process.env.FAL_INPUT),
  webhookUrl: process.env.WEBHOOK_URL,
});
const result = await fal.queue.result(endpoint, { requestId: submitted.request_id });
process.stdout.write(JSON.stringify({ submitted, result: result.data, requestId: result.requestId }) + "\n");
