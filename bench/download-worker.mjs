// Child process of the download benchmark: downloads one render with the built client and reports its
// own wall time and peak RSS, so the sandbox (in the parent) is not counted.
import { makeClient, maxRssKb, workerMain } from "./lib.mjs";

workerMain(async ({ apiUrl, stateDir, renderId, url, sizeBytes, outputDir, fileName }) => {
  const { downloadRender } = await import("../dist/client/download.js");
  const client = await makeClient(apiUrl, stateDir);
  await client.auth.get(); // the cached token, read before the clock starts
  // a real export has made its state, submit and status calls by the time it downloads: undici is loaded
  await import("undici");
  const rssBeforeKb = process.memoryUsage().rss / 1024;
  let progressCalls = 0;
  const started = performance.now();
  const result = await downloadRender(
    client,
    { renderId, url, sizeBytes },
    {
      outputDir,
      fileName,
      onProgress: () => {
        progressCalls += 1;
      },
    },
  );
  const ms = performance.now() - started;
  if (result.bytes !== sizeBytes) throw new Error(`downloaded ${result.bytes} of ${sizeBytes} bytes`);
  return { ms, maxRssKb: maxRssKb(), rssBeforeKb, progressCalls, file: result.file };
});
