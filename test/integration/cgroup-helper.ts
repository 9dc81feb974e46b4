// Child process for cgroup-v2.test.ts: waits for a line on stdin (the test moves it into a
// cgroup of its own first), then creates a container cgroup below that and reports as JSON.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { ContainerCgroup, detectCgroupHost } from '../../src/cgroup/index.js';

const self = () => fs.readFileSync('/proc/self/cgroup', 'utf8').trim();
process.stdin.once('data', () => {
  const r: Record<string, unknown> = { start: self() };
  try {
    const own = detectCgroupHost().v2!.ownDir;
    const cg = ContainerCgroup.create('inner');
    r.afterCreate = self();
    try {
      cg.apply({ memory: { max: 64 * 1024 * 1024 }, pids: { max: 10 } });
      r.memoryMax = cg.get('memory.max');
      const s = spawn('sleep', ['30'], { stdio: 'ignore' });
      cg.attach(s.pid!);
      r.sleepIn = fs.readFileSync(`/proc/${s.pid}/cgroup`, 'utf8').trim();
      r.pids = cg.stats().pids;
    } catch (e) {
      r.error = (e as Error).message;
    }
    cg.destroy();
    r.after = self();
    r.leftover = fs.readdirSync(own, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => path.join(own, d.name));
    r.ownSubtree = fs.readFileSync(path.join(own, 'cgroup.subtree_control'), 'utf8').trim();
  } catch (e) {
    r.error = (e as Error).message;
  }
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
});
