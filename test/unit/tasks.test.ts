import type { Request } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { JobTaskStore } from "../../src/server/tasks.js";

const REQUEST: Request = { method: "tools/call", params: { name: "send_message", arguments: {} } };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function working(store: JobTaskStore, ttl = 60_000) {
  return store.createTask({ ttl, pollInterval: 1000 }, 1, REQUEST);
}

describe("JobTaskStore", () => {
  it("aborts a task's job once when the client cancels it (tasks/cancel), never on other statuses", async () => {
    const store = new JobTaskStore();
    const task = await working(store);
    const abort = vi.fn();
    store.whenCancelled(task.taskId, abort);
    await store.updateTaskStatus(task.taskId, "working", "Rendering 40%");
    expect(abort).not.toHaveBeenCalled();
    await store.updateTaskStatus(task.taskId, "cancelled");
    expect(abort).toHaveBeenCalledTimes(1);
    // a terminal task cannot be cancelled again, and the abort is gone with it
    await store.updateTaskStatus(task.taskId, "cancelled").catch(() => {});
    expect(abort).toHaveBeenCalledTimes(1);
    store.cleanup();
  });

  it("releases a held listener once: when its job ends, or at cleanup, whichever comes first", () => {
    const store = new JobTaskStore();
    const first = vi.fn();
    const second = vi.fn();
    const releaseFirst = store.hold(first);
    store.hold(second);
    expect(store.held).toBe(2);
    releaseFirst();
    releaseFirst();
    expect(first).toHaveBeenCalledTimes(1);
    expect(store.held).toBe(1);
    store.cleanup();
    expect(second).toHaveBeenCalledTimes(1);
    expect(store.held).toBe(0);
    store.cleanup();
    expect(second).toHaveBeenCalledTimes(1);
  });

  it("drops finished tasks after their ttl", async () => {
    const store = new JobTaskStore();
    const task = await working(store, 5_000);
    await store.storeTaskResult(task.taskId, "completed", { content: [] });
    expect(await store.getTask(task.taskId)).toMatchObject({ status: "completed" });
    await vi.advanceTimersByTimeAsync(5_001);
    expect(await store.getTask(task.taskId)).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("leaves no timer, task or cancel hook behind after cleanup", async () => {
    const store = new JobTaskStore();
    const tasks = [await working(store), await working(store, 3_600_000)];
    const abort = vi.fn();
    for (const task of tasks) store.whenCancelled(task.taskId, abort);
    store.hold(() => {});
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    store.cleanup();
    expect(vi.getTimerCount()).toBe(0);
    expect(store.held).toBe(0);
    for (const task of tasks) expect(await store.getTask(task.taskId)).toBeNull();
    expect(abort).not.toHaveBeenCalled();
  });
});
