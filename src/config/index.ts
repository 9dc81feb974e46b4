// LXC-format configuration: read (with includes), check against the key table, convert to
// a ContainerSpec and back, edit in place.
export { parseConfig, parseLine, loadConfig, formatProblem, entries, resolveConfigPath } from './lxc-parse.js';
export type { ConfigDocument, ConfigLine, EntryLine, ConfigProblem, LoadedConfig, LoadOptions } from './lxc-parse.js';
export { KEYS, LEGACY_KEYS, HOOK_TYPES, lookupKey, checkEntry } from './lxc-keys.js';
export type { KeyDef, Support, KeyMatch } from './lxc-keys.js';
export { configToSpec, emptyStored, mergeResources } from './lxc-to-spec.js';
export type { StoredConfig, NetInterface, ConvertOptions, Conversion, KeyUse } from './lxc-to-spec.js';
export { specToConfig, resourceKeys } from './spec-to-lxc.js';
export { getKey, getAll, setKey, addKey, unsetKey, serialize, formatEntry } from './lxc-write.js';
export { renderKeyTable } from './key-doc.js';
