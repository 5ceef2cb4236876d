import type { ChildProcess, spawn } from "node:child_process";

/** A real redis-server on a free loopback port, persistence off. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned). */
export function freePort(): Promise<number>;
/** Starts `redis-server` on a free port and waits until it answers PING; `spawn` may track the child. */
export function startRedis(spawnChild?: typeof spawn): Promise<RedisServer>;
/** Sends `signal` and waits for the process to exit; SIGKILL after 15 s. */
export function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void>;
