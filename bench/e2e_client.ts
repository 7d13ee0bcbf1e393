// Web clients for the end-to-end benchmark: real websockets on the broker's /ws, as the
// dashboard opens them. They recognise the load generator's stamped values
// (`<run>.<seq>@<ms>` on the bench endpoint), count each sequence number once per client and
// measure latency against the same clock the load generator stamped with (one process).

export const STAMP_ENDPOINT = "stamp";

/** `<run>.<seq>@<performance.now() ms>`: parsed back by the clients. */
export function stamp(run: number, seq: number): string {
  return `${run}.${seq}@${performance.now().toFixed(3)}`;
}

interface Run {
  id: number;
  expected: number;
  /** Per client, one byte per sequence number: 1 once received. */
  seen: Uint8Array[];
  latencies: Float64Array;
  count: number;
  duplicates: number;
  lastAt: number;
}

export interface RunResult {
  /** Deliveries expected: offered x clients. */
  expected: number;
  delivered: number;
  duplicates: number;
  latenciesMs: Float64Array;
}

type Frame = { type: string; uid?: string; endpoint?: string; data?: unknown };

export class WebClients {
  readonly sockets: WebSocket[] = [];
  #run: Run | null = null;
  /** Latest value per `uid/endpoint` seen by client 0 (registration and command replies). */
  #values = new Map<string, unknown>();
  #waiters = new Set<{ key: string; test: (v: unknown) => boolean; resolve: () => void }>();
  frames = 0;

  /** Opens `n` clients in batches, each announced with pyaiot's `new` frame. */
  static async open(url: string, n: number, batch = 50): Promise<WebClients> {
    const c = new WebClients();
    for (let i = 0; i < n; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) => c.#connect(url, i + j)),
      );
    }
    return c;
  }

  /** Adds `n` more clients (for fan-out runs); `shrink` closes them again. */
  async grow(url: string, n: number, batch = 50): Promise<void> {
    const start = this.sockets.length;
    for (let i = 0; i < n; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, j) => this.#connect(url, start + i + j)),
      );
    }
  }

  /** Closes every client beyond the first `keep`. */
  async shrink(keep: number): Promise<void> {
    const extra = this.sockets.splice(keep);
    await Promise.all(extra.map(closeSocket));
  }

  #connect(url: string, index: number): Promise<void> {
    const ws = new WebSocket(url);
    this.sockets.push(ws);
    return new Promise((resolve, reject) => {
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: "new", data: "client" }));
        resolve();
      };
      ws.onerror = (e) => reject(new Error(`web client ${index}: ${(e as ErrorEvent).message}`));
      ws.onmessage = (ev) => this.#onMessage(index, ev.data as string);
    });
  }

  #onMessage(client: number, raw: string): void {
    const now = performance.now();
    this.frames++;
    let f: Frame;
    try {
      f = JSON.parse(raw);
    } catch {
      return;
    }
    if (f.type !== "update" || typeof f.endpoint !== "string") return;
    if (f.endpoint === STAMP_ENDPOINT && typeof f.data === "string") {
      const run = this.#run;
      const dot = f.data.indexOf(".");
      const at = f.data.indexOf("@");
      if (run && dot > 0 && at > dot && Number(f.data.slice(0, dot)) === run.id) {
        const seq = Number(f.data.slice(dot + 1, at));
        const seen = run.seen[client];
        if (seq >= 0 && seq < run.expected) {
          if (seen[seq]) run.duplicates++;
          else {
            seen[seq] = 1;
            run.latencies[run.count++] = now - Number(f.data.slice(at + 1));
            run.lastAt = now;
          }
        }
      }
    }
    if (client !== 0) return;
    const key = `${f.uid}/${f.endpoint}`;
    this.#values.set(key, f.data);
    for (const w of this.#waiters) {
      if (w.key === key && w.test(f.data)) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }

  has(uid: string, endpoint: string): boolean {
    return this.#values.has(`${uid}/${endpoint}`);
  }

  /** Resolves when client 0 sees `uid/endpoint` take a value passing `test`. */
  waitFor(uid: string, endpoint: string, test: (v: unknown) => boolean): Promise<void> {
    const key = `${uid}/${endpoint}`;
    if (this.#values.has(key) && test(this.#values.get(key))) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add({ key, test, resolve }));
  }

  /** A write as the dashboard sends it (LED toggle). */
  write(uid: string, endpoint: string, payload: string): void {
    this.sockets[0].send(JSON.stringify({ type: "update", data: { uid, endpoint, payload } }));
  }

  beginRun(id: number, expected: number): void {
    this.#run = {
      id,
      expected,
      seen: this.sockets.map(() => new Uint8Array(expected)),
      latencies: new Float64Array(expected * this.sockets.length),
      count: 0,
      duplicates: 0,
      lastAt: performance.now(),
    };
  }

  get delivered(): number {
    return this.#run?.count ?? 0;
  }

  /** ms since the last new delivery of the current run. */
  get quietMs(): number {
    return this.#run ? performance.now() - this.#run.lastAt : Infinity;
  }

  endRun(): RunResult {
    const run = this.#run;
    this.#run = null;
    if (!run) return { expected: 0, delivered: 0, duplicates: 0, latenciesMs: new Float64Array() };
    return {
      expected: run.expected * run.seen.length,
      delivered: run.count,
      duplicates: run.duplicates,
      latenciesMs: run.latencies.subarray(0, run.count),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.sockets.map(closeSocket));
  }
}

function closeSocket(ws: WebSocket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.onclose = () => resolve();
    ws.close();
  });
}

/** p-th percentile (0..100) of the values, by sorting a copy. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

export function summarize(lat: Float64Array): { p50: number; p99: number; p999: number } {
  const s = Float64Array.from(lat).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), p999: percentile(s, 99.9) };
}
