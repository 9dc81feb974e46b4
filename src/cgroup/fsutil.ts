import * as fs from 'node:fs';
import { CgroupError, errnoOf, fsError } from './error.js';

const sab = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread for ms milliseconds (the cgroup layer is synchronous by design). */
export function sleepSync(ms: number): void {
  Atomics.wait(sab, 0, 0, ms);
}

export function readFile(file: string, what = 'cannot read cgroup file'): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw fsError(what, file, e);
  }
}

export function readOpt(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function writeFile(file: string, value: string, what = 'cannot write cgroup file'): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    throw fsError(`${what} (value ${JSON.stringify(value)})`, file, e);
  }
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/** Numbers from a cgroup.procs / tasks style file; [] when unreadable. */
export function readPids(file: string): number[] {
  const s = readOpt(file);
  if (!s) return [];
  return s.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

/** rmdir tolerating ENOENT; returns the errno on other failures. */
export function rmdirQuiet(dir: string): string | undefined {
  try {
    fs.rmdirSync(dir);
    return undefined;
  } catch (e) {
    const c = errnoOf(e);
    return c === 'ENOENT' ? undefined : (c ?? 'EIO');
  }
}

export { CgroupError };
