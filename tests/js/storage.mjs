// The official JavaScript client's storage (@fal-ai/client, pinned in package.json) against a running fal-mock.
//
//   node storage.mjs <base url> <key> <png file>
//
// Runs every check twice — through the `fetch` override that rewrites fal's hosts to the mock's path
// prefixes, and through `proxyUrl: {url: <base>/proxy, when: "always"}` — and prints one JSON line per
// check: {"mode", "check", "ok", ...facts}. The pytest driver (tests/mock_server/edge/api/test_js_storage.py)
// asserts on the facts; this script only observes. Every request the client makes is recorded
// (method and path) so the driver can see which upload flow ran.
import { toMock } from "./mock-hosts.mjs";
import { createFalClient } from "@fal-ai/client";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

const [base, key, pngPath] = process.argv.slice(2);
if (!base || !key || !pngPath) {
  console.error("usage: node storage.mjs <base url> <key> <png file>");
  process.exit(2);
}

const MINIMAX = "fal-ai/minimax-video/image-to-video";
const png = readFileSync(pngPath);
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

const rewrite = toMock(base);

let requests = [];
let redirects = 0;
const observed = (url, init) => {
  const target = new URL(String(url));
  const headers = new Headers(init?.headers ?? {});
  requests.push({
    method: init?.method ?? "GET",
    path: target.pathname,
    query: target.search,
    target: headers.get("x-fal-target-url"),
    authorization: headers.has("authorization"),
  });
  return fetch(url, init).then((response) => {
    if (response.redirected) redirects += 1;
    return response;
  });
};

const configs = {
  fetch: (credentials) => ({ credentials, fetch: (url, init) => observed(rewrite(url), init) }),
  proxy: (credentials) => ({ credentials, fetch: observed, proxyUrl: { url: `${base}/proxy`, when: "always" } }),
};

async function download(url) {
  const response = await fetch(url);
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, contentType: response.headers.get("content-type"), bytes };
}

const checks = {
  // fal.storage.upload(new Blob([...])): initiate (through dispatchRequest), then a PUT of the bytes
  async upload_text(fal) {
    const text = "hello from the official JS client";
    const url = await fal.storage.upload(new Blob([text], { type: "text/plain" }));
    const served = await download(url);
    return { url, status: served.status, contentType: served.contentType, same: served.bytes.toString() === text };
  },

  async upload_png(fal) {
    const url = await fal.storage.upload(new Blob([png], { type: "image/png" }));
    const served = await download(url);
    return { url, status: served.status, contentType: served.contentType, same: served.bytes.equals(png) };
  },

  // fal.subscribe with a Blob as image_url: transformInput uploads it, the job gets the file URL
  async subscribe_blob(fal) {
    const result = await fal.subscribe(MINIMAX, {
      input: { prompt: "a slow pan", image_url: new Blob([png], { type: "image/png" }) },
      mode: "polling",
      pollInterval: 10,
    });
    return { requestId: result.requestId, video: result.data.video };
  },

  // over 90 MiB: initiate-multipart, 10 MiB part PUTs answered with {partNumber, etag}, then complete
  async upload_multipart(fal) {
    const size = 91 * 1024 * 1024 + 12345;
    const big = Buffer.alloc(size);
    for (let offset = 0; offset < size; offset += 4096) big.writeUInt32LE(offset >>> 0, offset);
    const url = await fal.storage.upload(new Blob([big], { type: "application/octet-stream" }));
    const served = await download(url);
    return { url, status: served.status, size, servedSize: served.bytes.length,
             same: sha256(served.bytes) === sha256(big) };
  },
};

for (const mode of Object.keys(configs)) {
  for (const [name, check] of Object.entries(checks)) {
    requests = [];
    redirects = 0;
    const fal = createFalClient(configs[mode](key));
    let line;
    try {
      line = { mode, check: name, ok: true, ...(await check(fal)) };
    } catch (error) {
      line = { mode, check: name, ok: false, error: String(error?.stack ?? error), body: error?.body };
    }
    console.log(JSON.stringify({ ...line, requests, redirects }));
  }
}
