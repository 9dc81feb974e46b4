// Templates: how `lxts create -t NAME -- ARGS` fills a container's rootfs and the first lines
// of its config. A template writes only below ctx.rootfs (and its caches below ctx.cacheDir),
// kills every child process it started when it fails or is interrupted, and throws an
// LxtsError with one clear line. Removing a half-created container is the caller's job.
import { usageError } from '../errors.js';
import { hostTemplate } from './host.js';
import { busyboxTemplate } from './busybox.js';
import { debianTemplate } from './debian.js';
import { localTemplate } from './local.js';
import { ociTemplate } from './oci.js';

import type { Template } from './common.js';

export type { TemplateContext, TemplateResult, Template, TemplateOptions, TemplateValues } from './common.js';
export { parseTemplateArgs, templateHelp, wantsHelp } from './common.js';
export { quoteCommand, resolveIn } from './util.js';

export const TEMPLATES: Record<string, Template> = {
  host: hostTemplate,
  busybox: busyboxTemplate,
  debian: debianTemplate,
  local: localTemplate,
  oci: ociTemplate,
};

export function getTemplate(name: string): Template {
  const t = Object.prototype.hasOwnProperty.call(TEMPLATES, name) ? TEMPLATES[name] : undefined;
  if (!t) throw usageError(`unknown template "${name}"`, `templates: ${Object.keys(TEMPLATES).join(', ')}`);
  return t;
}

/** The cache directory: LXTS_CACHE, else /var/cache/lxts. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.LXTS_CACHE || '/var/cache/lxts';
}
