// Pointing the official JavaScript client at a fal-mock server (protocol reference §6.2).
//
// `toMock(base)` rewrites fal's hosts to the server's path prefixes; pass it through the client's
// `fetch` option: createFalClient({credentials, fetch: (url, init) => fetch(toMock(base)(url), init)}).
export const toMock = (base) => {
  const root = String(base).replace(/\/$/, "");
  return (url) =>
    String(url)
      .replace(/^https:\/\/queue\.fal\.run/, `${root}/queue`)
      .replace(/^https:\/\/fal\.run/, `${root}/run`)
      .replace(/^https:\/\/rest\.fal\.ai/, `${root}/rest`)
      .replace(/^https:\/\/v3\.fal\.media/, `${root}/cdn`);
};
