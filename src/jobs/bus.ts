/** A running job held by this instance: its updates go to followers elsewhere; release ends the hold. */
export interface JobLease {
  /** Passes one update of the job to the instances following it. */
  publish(update: unknown): void;
  /**
   * Ends the hold. `finished`: the final record is saved, followers are told; otherwise (shutdown)
   * the job is left for another instance to take over at once.
   */
  release(finished: boolean): Promise<void>;
}

/** How a follow of another instance's job ended. */
export type FollowOutcome = "finished" | "timeout" | "aborted" | "orphaned";

/**
 * Coordination of running jobs across instances (with Redis): leases kept alive by heartbeats,
 * update fan-out, cancellation, and takeover of a job whose instance died. Absent when one process
 * holds every job.
 */
export interface JobBus {
  /** Holds `id` here: keeps its lease alive and runs `cancel` when any instance asks to cancel it. */
  hold(id: string, cancel: () => void): JobLease;
  /** True while a live instance holds `id`. */
  isHeld(id: string): Promise<boolean>;
  /** Claims a job nobody holds any more; true when this instance won it (and must recover it). */
  takeOver(id: string): Promise<boolean>;
  /** Follows another instance's job until it finishes, `ms` pass, `signal` aborts, or its holder is gone. */
  follow(
    id: string,
    ms: number,
    signal?: AbortSignal,
    onUpdate?: (update: unknown) => void,
  ): Promise<FollowOutcome>;
  /** Asks the instance holding `id` to cancel it. */
  requestCancel(id: string): Promise<void>;
}

/** One owner's view of a bus: ids are prefixed like ScopedJobStore's keys. */
export function scopeBus(bus: JobBus, owner: string): JobBus {
  const key = (id: string) => `${owner}.${id}`;
  return {
    hold: (id, cancel) => bus.hold(key(id), cancel),
    isHeld: (id) => bus.isHeld(key(id)),
    takeOver: (id) => bus.takeOver(key(id)),
    follow: (id, ms, signal, onUpdate) => bus.follow(key(id), ms, signal, onUpdate),
    requestCancel: (id) => bus.requestCancel(key(id)),
  };
}
