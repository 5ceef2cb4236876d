// Child process of the upload benchmark: uploads one file with the built client and reports its own
// wall time and peak RSS, so the sandbox (in the parent) is not counted.
import { makeClient, maxRssKb, workerMain } from "./lib.mjs";

workerMain(async ({ apiUrl, stateDir, sessionId, file }) => {
  const { uploadFiles } = await import("../dist/client/upload.js");
  const client = await makeClient(apiUrl, stateDir);
  await client.auth.get(); // the cached token, read before the clock starts
  const rssBeforeKb = process.memoryUsage().rss / 1024;
  let progressCalls = 0;
  const started = performance.now();
  const result = await uploadFiles(client, sessionId, [file], {
    onProgress: () => {
      progressCalls += 1;
    },
  });
  const ms = performance.now() - started;
  if (result.files.length !== 1) throw new Error(`expected 1 uploaded file, got ${result.files.length}`);
  return { ms, maxRssKb: maxRssKb(), rssBeforeKb, progressCalls };
});
