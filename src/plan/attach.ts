// The plan for `lxts attach`: join a running container's namespaces, then fork a process
// that waits at the barrier (TypeScript moves it into the container's cgroup) and execs
// with the container's capability set, user and environment.
import type { LaunchPlan, PlanStep } from './encode.js';
import type { OpName } from './ops.js';
import { CLONE } from './ops.js';
import { capabilityMask } from '../security/capabilities.js';
import type { CapabilitySpec, NamespaceKind, ProcessSpec } from '../spec.js';

/** What an attached process runs with: the container's init PID and namespaces, plus a process. */
export type AttachSpec = { initPid: number; namespaces: NamespaceKind[]; capabilities: CapabilitySpec } & Pick<
  ProcessSpec,
  'args' | 'env' | 'cwd' | 'uid' | 'gid' | 'additionalGids' | 'noNewPrivileges' | 'terminal'
>;

// The mount namespace goes last: after setns into it, /proc is the container's and the
// host PIDs in the other /proc/PID/ns paths would no longer resolve. PID comes just
// before: it only takes effect for the child the CLONE step forks.
const ORDER: [NamespaceKind, string, number][] = [
  // The user namespace first: it owns the others, and joining it grants the capabilities
  // to join them.
  ['user', 'user', CLONE.NEWUSER],
  ['cgroup', 'cgroup', CLONE.NEWCGROUP],
  ['ipc', 'ipc', CLONE.NEWIPC],
  ['uts', 'uts', CLONE.NEWUTS],
  ['net', 'net', CLONE.NEWNET],
  ['pid', 'pid', CLONE.NEWPID],
  ['mount', 'mnt', CLONE.NEWNS],
];

export function compileAttachPlan(a: AttachSpec): LaunchPlan {
  const steps: PlanStep[] = [];
  const add = (op: OpName, ...args: (string | number | bigint)[]): void => {
    steps.push({ op, args: args.map(String) });
  };
  add('PDEATHSIG', 9);
  if (a.terminal) add('PTY');
  const ns = new Set(a.namespaces);
  for (const [kind, file, flag] of ORDER) if (ns.has(kind)) add('SETNS', `/proc/${a.initPid}/ns/${file}`, flag);
  add('CLONE', 0);
  add('BARRIER');
  const caps = capabilityMask(a.capabilities);
  add('CAPBSET', caps);
  add('SETUSER', a.uid, a.gid, ...a.additionalGids);
  add('CHDIR', a.cwd);
  add('CAPS', caps);
  if (a.noNewPrivileges) add('NO_NEW_PRIVS');
  add('ENV', ...a.env);
  const [file, ...rest] = a.args;
  add('EXEC', file!, file!, ...rest);
  return { steps };
}
