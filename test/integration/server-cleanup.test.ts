import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Turn } from "../../src/client/turns.js";
import { createServer } from "../../src/server/server.js";
import { JobTaskStore } from "../../src/server/tasks.js";
import { type MemoryServer, startMemoryServer } from "../helpers/mcp-memory.js";

const TASKS = { capabilities: { tasks: { list: {}, cancel: {} } } };

let mem: MemoryServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await mem?.close();
  mem = undefined;
});

describe("createServer's cleanup", () => {
  it("releases the log sink, the task store and a task's listener on its job; the job itself goes on", async () => {
    mem = await startMemoryServer({ clientCapabilities: TASKS, sandboxOptions: { stepMs: 20 } });
    const { runtime } = mem;
    const addSink = vi.spyOn(runtime.logger, "addSink");
    const hold = vi.spyOn(JobTaskStore.prototype, "hold");
    const start = vi.spyOn(runtime.jobs.turns, "start");

    // A second server on the same runtime, as the HTTP face builds one per request.
    const { server, cleanup } = createServer(runtime, runtime.skills);
    const client = new Client({ name: "cleanup-test", version: "1.0.0" }, TASKS);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    await client.connect(clientSide);
    expect(addSink).toHaveBeenCalledTimes(1);
    await client.listTools(); // the client learns which tools run as tasks

    const stream = client.experimental.tasks.callToolStream({
      name: "send_message",
      arguments: { message: "add a natural AI voiceover in English" },
      task: { ttl: 60_000 },
    });
    const first = (await stream.next()).value;
    if (first?.type !== "taskCreated") throw new Error(`expected taskCreated, got ${first?.type}`);
    const store = hold.mock.contexts[0] as JobTaskStore;
    expect(store.held).toBe(1);
    expect(await store.getTask(first.task.taskId)).toMatchObject({ status: "working" });

    await cleanup();
    expect(server.isConnected()).toBe(false);
    expect(store.held).toBe(0);
    expect(await store.getTask(first.task.taskId)).toBeNull();
    // the sink was removed already: removing it again finds nothing
    const removeSink = addSink.mock.results[0]?.value as () => boolean;
    expect(removeSink()).toBe(false);
    // a second cleanup is the same one
    await cleanup();

    const turn = (await start.mock.results[0]?.value) as Turn;
    expect((await runtime.jobs.turns.final(turn.id)).status).toBe("completed");
    await client.close().catch(() => {});
  });

  it("closes a server that never connected", async () => {
    mem = await startMemoryServer();
    const { server, cleanup } = createServer(mem.runtime);
    await cleanup();
    expect(server.isConnected()).toBe(false);
  });
});
