// One lock per container serializes state-changing commands (start, stop, destroy, copy).
// Node has no flock(2), so the lock is an O_EXCL file holding the owner's PID; a lock whose
// owner is dead is stale and taken over. Waiting is bounded.
import { openSync, writeSync, closeSync, readFileSync, unlinkSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LxtsError } from '../errors.js';

export interface Lock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(file: string, what: string, timeoutMs = 15000): Promise<Lock> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          try {
            if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
          } catch {
            /* already gone */
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(file, 'utf8'));
    } catch {
      continue; // released between our open and read
    }
    if (owner > 0 && !alive(owner)) {
      try {
        unlinkSync(file);
      } catch {
        /* someone else took it over first */
      }
      continue;
    }
    if (Date.now() > deadline) throw new LxtsError(`${what} is busy: another lxts command (pid ${owner || '?'}) holds its lock`, 1, `wait for it, or check ${file}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
