import type { McpServer, RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ToolTaskHandler } from "@modelcontextprotocol/sdk/experimental/tasks/interfaces.js";
import { InMemoryTaskStore } from "@modelcontextprotocol/sdk/experimental/tasks/stores/in-memory.js";
import type { CallToolResult, Task } from "@modelcontextprotocol/sdk/types.js";
import type { ExportProgress } from "../client/export.js";
import { describeTurnUpdate } from "../jobs/updates.js";
import type { ServerDeps } from "./context.js";
import { exportResult } from "./tools/export-result.js";
import { startExportJob } from "./tools/export-video.js";
import { startTurnJob } from "./tools/send-message.js";
import { turnResult } from "./tools/turn-result.js";
import { errorText } from "./tools/common.js";
import { withContactSheet } from "./views/frames.js";

const TASK_TTL_MS = 60 * 60 * 1000;
const POLL_INTERVAL_MS = 1000;

/** A task store that tells the jobs when a client cancels a task (tasks/cancel), and lets go of them on cleanup. */
export class JobTaskStore extends InMemoryTaskStore {
  private readonly onCancel = new Map<string, () => void>();
  private readonly holds = new Set<() => void>();

  /** Registers what to abort when task `taskId` is cancelled. */
  whenCancelled(taskId: string, abort: () => void): void {
    this.onCancel.set(taskId, abort);
  }

  /** Keeps `release` (a task's listener on its job) until the job ends or the store is cleaned up; returns it, run once. */
  hold(release: () => void): () => void {
    const once = () => {
      if (this.holds.delete(once)) release();
    };
    this.holds.add(once);
    return once;
  }

  /** How many task listeners are still held (0 after cleanup). */
  get held(): number {
    return this.holds.size;
  }

  /** Drops every task, its timer and its listener on a job; the jobs themselves go on. */
  override cleanup(): void {
    for (const release of [...this.holds]) release();
    this.onCancel.clear();
    super.cleanup();
  }

  override async updateTaskStatus(
    taskId: string,
    status: Task["status"],
    statusMessage?: string,
    sessionId?: string,
  ): Promise<void> {
    await super.updateTaskStatus(taskId, status, statusMessage, sessionId);
    if (status === "cancelled") {
      this.onCancel.get(taskId)?.();
      this.onCancel.delete(taskId);
    }
  }
}

type Args = Record<string, unknown>;
type Extra = Parameters<ToolTaskHandler<Record<string, never>>["createTask"]>[1];
type PlainHandler = (args: Args, extra: Extra) => Promise<CallToolResult>;

/** Set on a tools/call's `extra` when the call is not task-augmented (the SDK then polls a task for it). */
const PLAIN_CALL = Symbol("nemovideo.plainCall");

/**
 * Marks every tools/call that asks for no task, so that a task-capable tool keeps its bounded wait
 * (wait_seconds, progress) for it instead of the SDK's unbounded polling of a task.
 */
export function markPlainToolCalls(server: McpServer): void {
  type Handler = (request: { params?: Record<string, unknown> }, extra: object) => Promise<unknown>;
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, Handler> })._requestHandlers;
  const inner = handlers?.get("tools/call");
  if (!handlers || !inner) return;
  handlers.set("tools/call", (request, extra) => {
    if (request.params?.task === undefined) Object.assign(extra, { [PLAIN_CALL]: true });
    return inner(request, extra);
  });
}

function handler(
  store: JobTaskStore,
  plain: PlainHandler,
  start: (
    args: Args,
    signal: AbortSignal,
    status: (message: string) => void,
  ) => Promise<{
    finished: Promise<CallToolResult>;
    cancel: () => void;
    /** Stops listening to the job (its status messages); the job goes on. */
    release: () => void;
  }>,
): ToolTaskHandler<Record<string, never>> {
  return {
    createTask: async (args, extra) => {
      if ((extra as unknown as Record<symbol, unknown>)[PLAIN_CALL]) {
        // A plain call: the tool's own bounded wait; the SDK finds its task already finished.
        const result = await plain(args as Args, extra);
        const task = await extra.taskStore.createTask({ ttl: TASK_TTL_MS, pollInterval: POLL_INTERVAL_MS });
        await extra.taskStore.storeTaskResult(task.taskId, result.isError ? "failed" : "completed", result);
        return { task: (await extra.taskStore.getTask(task.taskId)) ?? task };
      }
      const task = await extra.taskStore.createTask({
        ttl: extra.taskRequestedTtl ?? TASK_TTL_MS,
        pollInterval: POLL_INTERVAL_MS,
      });
      const setStatus = (message: string) => {
        void extra.taskStore.updateTaskStatus(task.taskId, "working", message).catch(() => {});
      };
      // The task outlives this request: its work follows tasks/cancel, not the request's signal.
      const controller = new AbortController();
      let job: Awaited<ReturnType<typeof start>> | undefined;
      store.whenCancelled(task.taskId, () => {
        controller.abort();
        job?.cancel();
      });
      try {
        job = await start(args as Args, controller.signal, setStatus);
      } catch (err) {
        await extra.taskStore
          .storeTaskResult(task.taskId, "failed", {
            content: [{ type: "text", text: errorText(err) }],
            isError: true,
          })
          .catch(() => {}); // cancelled meanwhile: nothing to store
        return { task };
      }
      if (controller.signal.aborted) job.cancel();
      const release = store.hold(job.release);
      void job.finished.finally(release).then(async (result) => {
        await extra.taskStore
          .storeTaskResult(task.taskId, result.isError ? "failed" : "completed", result)
          .catch(() => {}); // already cancelled: nothing to store
      });
      return { task };
    },
    getTask: async (_args, extra) => {
      const task = await extra.taskStore.getTask(extra.taskId);
      if (!task) throw new Error(`Unknown task ${extra.taskId}`);
      return task;
    },
    getTaskResult: async (_args, extra) =>
      (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
  };
}

/**
 * For clients that declare MCP tasks support: send_message and export_video also run as tasks
 * (tools/call with `task`), backed by the same background jobs as the bounded-wait path.
 */
export function enableToolTasks(
  server: McpServer,
  deps: ServerDeps,
  store: JobTaskStore,
  tools: Map<string, RegisteredTool>,
): void {
  // Registered again the SDK's way (registerToolTask), keeping the tool's description, schemas and _meta.
  const asTask = (name: string, make: (plain: PlainHandler) => ToolTaskHandler<Record<string, never>>) => {
    const tool = tools.get(name);
    if (!tool) return;
    const plain = tool.handler as unknown as PlainHandler;
    tool.remove();
    const config = {
      inputSchema: tool.inputSchema as unknown as Record<string, never>,
      execution: { taskSupport: "optional" as const },
      ...(tool.title !== undefined ? { title: tool.title } : {}),
      ...(tool.description !== undefined ? { description: tool.description } : {}),
      ...(tool.outputSchema !== undefined
        ? { outputSchema: tool.outputSchema as unknown as Record<string, never> }
        : {}),
      ...(tool.annotations !== undefined ? { annotations: tool.annotations } : {}),
      ...(tool._meta !== undefined ? { _meta: tool._meta } : {}),
    };
    tools.set(name, server.experimental.tasks.registerToolTask(name, config, make(plain)));
  };
  asTask("send_message", (plain) =>
    handler(store, plain, async (args, signal, status) => {
      // A turn keeps its update callback to the end: releasing it turns the callback silent.
      let listening = true;
      const turn = await startTurnJob(
        deps,
        { session_id: args.session_id as string | undefined, message: String(args.message) },
        signal,
        (u) => {
          const line = listening ? describeTurnUpdate(u) : undefined;
          if (line && !line.minor) status(line.text);
        },
      );
      return {
        cancel: () => turn.cancel(),
        finished: deps.jobs.turns.final(turn.id).then(turnResult),
        release: () => {
          listening = false;
        },
      };
    }),
  );
  asTask("export_video", (plain) =>
    handler(store, plain, async (args, signal, status) => {
      let last = -1;
      const listener = (p: ExportProgress) => {
        const pct = Math.round(p.percent ?? 0);
        if (p.stage === "rendering" && pct !== last) {
          last = pct;
          status(`Rendering ${pct}%`);
        } else if (p.stage === "downloading" && last !== 101) {
          last = 101;
          status("Downloading the MP4…");
        }
      };
      const job = await startExportJob(
        deps,
        {
          session_id: args.session_id as string | undefined,
          output_dir: args.output_dir as string | undefined,
          file_name: args.file_name as string | undefined,
          quality: args.quality as string | undefined,
        },
        signal,
        listener,
      );
      return {
        cancel: () => void job.stop().catch(() => {}),
        release: () => job.unsubscribe(listener),
        finished: job.done.then(() => {
          const view = job.view();
          return withContactSheet(deps, exportResult(view), view);
        }),
      };
    }),
  );
}

/** Whether the connected client declared MCP tasks support. */
export function clientSupportsTasks(server: McpServer): boolean {
  return server.server.getClientCapabilities()?.tasks !== undefined;
}
