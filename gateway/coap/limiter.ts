// A FIFO concurrency limit. Discovery of thousands of nodes at once (a gateway restart, a fleet
// booting) would otherwise put every request on the wire together and collapse into
// retransmissions; RFC 7252 4.7 asks clients to limit outstanding interactions.

export class TaskLimiter {
  #running = 0;
  #queue: (() => void)[] = [];
  #closed = false;

  constructor(readonly max: number) {}

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `task` when a slot is free; the task's own errors are its business. */
  run(task: () => Promise<unknown>): void {
    if (this.#closed) return;
    const start = () => {
      this.#running++;
      task().catch(() => {}).finally(() => {
        this.#running--;
        if (!this.#closed) this.#queue.shift()?.();
      });
    };
    if (this.#running < this.max) start();
    else this.#queue.push(start);
  }

  /** Drops queued tasks; running ones finish on their own. */
  close(): void {
    this.#closed = true;
    this.#queue.length = 0;
  }
}
