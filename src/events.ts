// State-change watcher: the engine behind `lxts monitor` (lxc-monitor), meant to be shared with
// the REST server's live stream. lxts has no resident daemon to push events, so the watcher
// polls each container's state (cheap: a stopped container costs one stat of its run dir, a
// running one one round trip to its monitor's socket) every `intervalMs`, and polls at once
// when the run dir changes (fs.watch: run dirs and lock files appear and vanish on every start
// and stop), so transitions are usually seen within milliseconds.
//
// Transitions in flight are not reported as BROKEN: while another lxts command holds the
// container's lock (a start or stop half done) a BROKEN reading is ignored, and without the
// lock BROKEN must be read on two polls in a row.
import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { Container, type ContainerState } from './container.js';
import { locations, type Locations } from './storage/paths.js';

export interface StateEvent {
  /** ISO time at which the change was seen. */
  time: string;
  name: string;
  state: ContainerState;
  /** The state seen before; null for a container that appeared while watching. */
  previous: ContainerState | null;
  /** Init's host PID, when running. */
  pid: number | null;
  note?: string;
}

export interface WatchOptions extends Partial<Locations> {
  /** Only these containers (default: every container under the lxtspath, including new ones). */
  names?: string[];
  /** Poll period in ms (default 200). */
  intervalMs?: number;
  /** Also watch the run dir with fs.watch for low latency (default true). */
  fsWatch?: boolean;
}

interface Seen {
  state: ContainerState;
  pid: number | null;
  /** A BROKEN reading not yet confirmed by a second poll. */
  brokenOnce: boolean;
}

function lockHeld(file: string): boolean {
  let owner: number;
  try {
    owner = Number(readFileSync(file, 'utf8'));
  } catch {
    return false;
  }
  if (!(owner > 0)) return true; // being written: held
  try {
    process.kill(owner, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export declare interface StateWatcher {
  on(event: 'change', listener: (ev: StateEvent) => void): this;
  once(event: 'change', listener: (ev: StateEvent) => void): this;
  off(event: 'change', listener: (ev: StateEvent) => void): this;
  emit(event: 'change', ev: StateEvent): boolean;
}

/**
 * Watches container states and emits 'change' events. `start()` takes the initial snapshot
 * (no events for it) and begins polling; `close()` stops. Safe to share between subscribers.
 */
export class StateWatcher extends EventEmitter {
  readonly loc: Locations;
  private readonly names?: string[];
  private readonly intervalMs: number;
  private readonly useFsWatch: boolean;
  private readonly seen = new Map<string, Seen>();
  private timer?: NodeJS.Timeout;
  private fsw?: FSWatcher;
  private polling = false;
  private again = false;
  private closed = false;

  constructor(opts: WatchOptions = {}) {
    super();
    this.loc = locations(opts);
    this.names = opts.names;
    this.intervalMs = Math.max(10, opts.intervalMs ?? 200);
    this.useFsWatch = opts.fsWatch ?? true;
  }

  /** The last state seen of every watched container. */
  current(): Map<string, { state: ContainerState; pid: number | null }> {
    return new Map([...this.seen].map(([n, s]) => [n, { state: s.state, pid: s.pid }]));
  }

  async start(): Promise<Map<string, { state: ContainerState; pid: number | null }>> {
    await this.poll(true);
    this.schedule();
    return this.current();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.fsw?.close();
    this.fsw = undefined;
  }

  private schedule(): void {
    if (this.closed) return;
    this.ensureFsWatch();
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
  }

  private async tick(): Promise<void> {
    await this.poll(false);
    this.schedule();
  }

  /** fs.watch on the run dir (created later by the first start: retried on every poll). */
  private ensureFsWatch(): void {
    if (!this.useFsWatch || this.fsw || !existsSync(this.loc.rundir)) return;
    try {
      this.fsw = watch(this.loc.rundir, { persistent: false }, () => this.kick());
      this.fsw.on('error', () => {
        this.fsw?.close();
        this.fsw = undefined;
      });
    } catch {
      this.fsw = undefined;
    }
  }

  private kick(): void {
    if (this.closed) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    // A short pause lets the command that changed the dir get past its first step.
    setTimeout(() => void this.poll(false), 5).unref();
  }

  private containers(): Container[] {
    if (!this.names) return Container.list(this.loc);
    return this.names.map((n) => new Container(n, this.loc));
  }

  private async poll(initial: boolean): Promise<void> {
    if (this.polling || this.closed) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        const list = this.containers();
        const present = new Set<string>();
        await Promise.all(
          list.map(async (c) => {
            present.add(c.name);
            let st: Awaited<ReturnType<Container['state']>>;
            try {
              st = c.exists() ? await c.state() : { state: 'STOPPED', pid: null };
            } catch {
              return; // a monitor slow to answer: try again next time
            }
            this.observe(c, st, initial);
          }),
        );
        // Destroyed containers: report a last STOPPED if they were not stopped.
        for (const [name, s] of this.seen) {
          if (present.has(name)) continue;
          this.seen.delete(name);
          if (s.state !== 'STOPPED' && !initial) this.emitChange(name, 'STOPPED', s.state, null);
        }
      } while (this.again && !this.closed);
    } finally {
      this.polling = false;
    }
  }

  private observe(c: Container, st: { state: ContainerState; pid: number | null; note?: string }, initial: boolean): void {
    const prev = this.seen.get(c.name);
    if (st.state === 'BROKEN' && !initial) {
      // A start or stop in flight looks BROKEN for a moment: confirm before reporting.
      if (lockHeld(c.paths.lock)) return;
      if (prev && prev.state !== 'BROKEN' && !prev.brokenOnce) {
        prev.brokenOnce = true;
        return;
      }
    }
    if (!prev) {
      this.seen.set(c.name, { state: st.state, pid: st.pid, brokenOnce: false });
      // A container created while watching: its first state is news only if it is not STOPPED.
      if (!initial && st.state !== 'STOPPED') this.emitChange(c.name, st.state, null, st.pid, st.note);
      return;
    }
    prev.brokenOnce = false;
    if (prev.state === st.state && (prev.pid === st.pid || st.pid === null || prev.pid === null)) {
      if (st.pid !== null) prev.pid = st.pid;
      return;
    }
    const from = prev.state;
    prev.state = st.state;
    prev.pid = st.pid;
    // Same state, new init: the container was restarted between two polls.
    if (from === st.state) this.emitChange(c.name, 'STOPPED', from, null);
    this.emitChange(c.name, st.state, from === st.state ? 'STOPPED' : from, st.pid, st.note);
  }

  private emitChange(name: string, state: ContainerState, previous: ContainerState | null, pid: number | null, note?: string): void {
    const ev: StateEvent = { time: new Date().toISOString(), name, state, previous, pid };
    if (note) ev.note = note;
    this.emit('change', ev);
  }
}

/**
 * The same as an async iterator: `for await (const ev of watchStates({signal}))`. Ends when
 * `signal` aborts. Events are queued, never dropped.
 */
export async function* watchStates(opts: WatchOptions & { signal?: AbortSignal } = {}): AsyncGenerator<StateEvent> {
  const w = new StateWatcher(opts);
  const queue: StateEvent[] = [];
  let wake: (() => void) | undefined;
  w.on('change', (ev) => {
    queue.push(ev);
    wake?.();
  });
  const onAbort = (): void => wake?.();
  opts.signal?.addEventListener('abort', onAbort);
  try {
    await w.start();
    while (!opts.signal?.aborted) {
      if (!queue.length) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      while (queue.length) yield queue.shift()!;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    w.close();
  }
}
