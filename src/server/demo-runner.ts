// The 75/25 demo behind the API: one run at a time, its events forwarded to the stream, its
// samples kept for a page that connects mid-run. The demo's containers are started with
// dieWithParent, and shutdown() aborts the run and waits for runDemo's clean-up, so the
// server never leaves one behind: not on DELETE /api/demo, not on SIGINT/SIGTERM.
import { LxtsError } from '../errors.js';
import type { DemoEvent, DemoInfo, DemoSample, DemoSummary, DemoOptions } from '../demo/index.js';
import { HttpError } from './http-util.js';

export type DemoState = 'idle' | 'starting' | 'running' | 'stopping';

export interface DemoStatus {
  state: DemoState;
  split: number[] | null;
  durationSec: number | null;
  startedAt: string | null;
  info: DemoInfo | null;
  /** The last samples of the current (or last) run, oldest first. */
  samples: DemoSample[];
  summary: DemoSummary | null;
  error: string | null;
}

const KEEP_SAMPLES = 600;
let instances = 0;

export interface DemoDeps {
  /** runDemo from the library (a fake in the unit tests). */
  runDemo(opts: DemoOptions): Promise<DemoSummary>;
  /** Checks the options before anything starts (throws LxtsError). */
  resolve(opts: DemoOptions): unknown;
}

export class DemoRunner {
  private status: DemoStatus = { state: 'idle', split: null, durationSec: null, startedAt: null, info: null, samples: [], summary: null, error: null };
  private abort?: AbortController;
  private running?: Promise<void>;
  private readonly prefix = `webdemo${++instances}`;

  constructor(
    private readonly deps: DemoDeps,
    private readonly emit: (data: unknown) => void,
  ) {}

  get(): DemoStatus {
    return { ...this.status, samples: [...this.status.samples] };
  }

  /** Start a run; 409 when one is under way, 400 for a bad split or duration. */
  start(split: number[], durationSec: number): DemoStatus {
    if (this.status.state !== 'idle') throw new HttpError(409, `the demo is already ${this.status.state}`, 'stop it first: DELETE /api/demo');
    const opts: DemoOptions = { split, durationSec, namePrefix: this.prefix };
    try {
      this.deps.resolve(opts);
    } catch (e) {
      if (e instanceof LxtsError) throw new HttpError(400, e.message, e.hint);
      throw e;
    }
    const ac = new AbortController();
    this.abort = ac;
    this.status = { state: 'starting', split, durationSec, startedAt: new Date().toISOString(), info: null, samples: [], summary: null, error: null };
    this.emit({ type: 'state', state: 'starting', split, durationSec });
    const onEvent = (e: DemoEvent): void => {
      if (e.type === 'running') {
        this.status.state = 'running';
        this.status.info = e.info;
      } else if (e.type === 'sample') {
        this.status.samples.push(e.sample);
        if (this.status.samples.length > KEEP_SAMPLES) this.status.samples.shift();
      } else if (e.type === 'stopping') {
        this.status.state = 'stopping';
      }
      this.emit(e);
    };
    this.running = this.deps
      .runDemo({ ...opts, signal: ac.signal, onEvent })
      .then(
        (summary) => {
          this.status.summary = summary;
          this.emit({ type: 'done', summary });
        },
        (err: unknown) => {
          const msg = err instanceof Error ? err.message : String(err);
          // an abort before the first sample is a stop, not a failure
          const interrupted = err instanceof LxtsError && err.code === 130;
          this.status.error = interrupted ? null : msg;
          this.emit(interrupted ? { type: 'done', summary: null, note: msg } : { type: 'error', message: msg });
        },
      )
      .finally(() => {
        this.status.state = 'idle';
        this.abort = undefined;
        this.emit({ type: 'state', state: 'idle' });
      });
    return this.get();
  }

  /** Ask the run to end (its containers are removed before the state returns to idle). */
  stop(): DemoStatus {
    if (this.status.state === 'idle') throw new HttpError(409, 'the demo is not running');
    this.status.state = 'stopping';
    this.abort?.abort();
    return this.get();
  }

  /** Abort and wait for the clean-up (server shutdown). */
  async shutdown(): Promise<void> {
    this.abort?.abort();
    await this.running?.catch(() => undefined);
  }

  /** Resolves when the current run (if any) has ended and cleaned up. */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
