// lxts as a library: `import { execute, launch, defaultSpec } from 'lxts'`.
export { launch, execute, compileForHost, RunningContainer, type LaunchOptions, type ExitStatus } from './launch.js';
export { defaultSpec, type ContainerSpec, type MountSpec, type ProcessSpec, type NamespaceKind } from './spec.js';
export { compilePlan, formatPlan } from './plan/compile.js';
export { encodePlan, decodePlan, type LaunchPlan, type PlanStep } from './plan/encode.js';
export { LxtsError, ExitCode } from './errors.js';
export { validateName } from './names.js';
export * from './cgroup/index.js';
export * from './demo/index.js';
export * from './host/process-tree.js';
export { startServer } from './server/index.js';
export { Container, type ContainerInfo, type ContainerState } from './container.js';
