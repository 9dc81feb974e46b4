// Wire encoding of a LaunchPlan for lxts-exec (docs/plan-format.md).
import { Op, opName, type OpName } from './ops.js';

export interface PlanStep {
  op: OpName;
  args: (string | Buffer)[];
}

export interface LaunchPlan {
  steps: PlanStep[];
}

const MAGIC = Buffer.from('LXTSPLAN', 'latin1');
const VERSION = 1;

/** Encode a plan as `u32 total_length` + blob, ready to write to lxts-exec's fd 3. */
export function encodePlan(plan: LaunchPlan): Buffer {
  const parts: Buffer[] = [MAGIC, u32(VERSION), u32(plan.steps.length)];
  for (const step of plan.steps) {
    parts.push(u32(Op[step.op]), u32(step.args.length));
    for (const a of step.args) {
      const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
      parts.push(u32(b.length), b);
    }
  }
  const blob = Buffer.concat(parts);
  return Buffer.concat([u32(blob.length), blob]);
}

/** Decode a blob (without the length prefix); used by tests and `--dry-run --raw`. */
export function decodePlan(blob: Buffer): LaunchPlan {
  if (blob.length < 16 || !blob.subarray(0, 8).equals(MAGIC)) throw new Error('not a LaunchPlan (bad magic)');
  let off = 8;
  const rd = (): number => {
    if (off + 4 > blob.length) throw new Error('truncated LaunchPlan');
    const v = blob.readUInt32LE(off);
    off += 4;
    return v;
  };
  const version = rd();
  if (version !== VERSION) throw new Error(`unsupported LaunchPlan version ${version}`);
  const count = rd();
  const steps: PlanStep[] = [];
  for (let i = 0; i < count; i++) {
    const code = rd();
    const name = opName(code);
    if (!name) throw new Error(`unknown opcode ${code} in step ${i + 1}`);
    const nargs = rd();
    const args: Buffer[] = [];
    for (let j = 0; j < nargs; j++) {
      const len = rd();
      if (off + len > blob.length) throw new Error('truncated LaunchPlan');
      args.push(blob.subarray(off, off + len));
      off += len;
    }
    steps.push({ op: name, args: name === 'SECCOMP' ? args : args.map((a) => a.toString('utf8')) });
  }
  return { steps };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}
