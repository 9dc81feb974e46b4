// The CPU-partition demo as a library (the CLI's `lxts demo` and the dashboard both use it).
export { runDemo, resolveDemoOptions, checkDemoHost, removeContainers, summarize, DEMO_COMMAND, DEFAULT_INTERVAL_MS, DEFAULT_WARMUP_MS } from './run-demo.js';
export type { DemoOptions, DemoInfo, DemoEvent, DemoSummary, DemoContainerInfo, DemoContainerResult, DemoHostInfo } from './run-demo.js';
export { ShareTracker, type DemoSample, type ContainerSample } from './tracker.js';
export { parseSplit, validateSplit, weightsFor, chooseCpu, usableCpus, type CpuWeights, type CpuSources } from './split.js';
export { renderHeader, renderFrame, renderPlainLine, renderSummary, visibleWidth, stripAnsi } from './view.js';
