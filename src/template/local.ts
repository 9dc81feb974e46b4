// `local`: a container from a rootfs tarball on disk (tar, tar.gz, tar.xz, tar.zst, tar.bz2),
// optionally with an LXC-style metadata tarball. Every archive is read entry by entry first
// and refused if it could write outside the rootfs (absolute names, "..", hard links out,
// writes through its own symlinks); then the host's tar extracts it with numeric owners.
import { existsSync, statSync, readFileSync } from 'node:fs';
import { parseTemplateArgs, templateHelp, type Template, type TemplateContext, type TemplateResult } from './common.js';
import { listTar, readTarFiles, unsafeEntry, normalizeTarPath } from './tar.js';
import { run, fileCompression, resolveIn, writeFileIn, throwIfAborted, type Compression } from './util.js';
import { LxtsError, usageError, ExitCode } from '../errors.js';

const OPTIONS = {
  rootfs: { type: 'string' },
  metadata: { type: 'string' },
  kind: { type: 'string' },
  'strip-components': { type: 'string' },
} as const;

const TAR_FLAG: Record<Compression, string[]> = { none: [], gzip: ['-z'], xz: ['-J'], zstd: ['--zstd'], bzip2: ['-j'] };

/** Check an archive's entries, then extract it into `dest` with the host's tar. */
export async function safeExtract(file: string, dest: string, opts: { what: string; signal?: AbortSignal; strip?: number; extraArgs?: string[] }): Promise<void> {
  const compression = fileCompression(file);
  const entries = await listTar(file, opts.signal);
  const bad = unsafeEntry(entries);
  if (bad) throw new LxtsError(`${opts.what}: refusing ${file}: ${bad} (it could write outside the rootfs)`);
  const args = ['--numeric-owner', '--same-permissions', '--same-owner', '--xattrs', '--xattrs-include=security.capability', '--xattrs-include=user.*', ...TAR_FLAG[compression], '-x', '-f', file, '-C', dest];
  if (opts.strip) args.push(`--strip-components=${opts.strip}`);
  args.push(...(opts.extraArgs ?? []));
  await run('tar', args, { signal: opts.signal, what: `${opts.what}: extracting ${file}` });
}

export interface LocalMetadata {
  config: [string, string][];
  warnings: string[];
  /** rootfs path -> rendered content */
  files: Map<string, string>;
  /** LXC `templates` list: rootfs paths whose LXC_NAME is replaced */
  substitute: string[];
  message?: string;
}

/** Parse LXC image metadata (already read from the tarball). */
export function parseMetadata(files: Map<string, Buffer>, name: string): LocalMetadata {
  const md: LocalMetadata = { config: [], warnings: [], files: new Map(), substitute: [] };
  const cfg = files.get('config');
  if (cfg) {
    cfg
      .toString('utf8')
      .split('\n')
      .forEach((raw, i) => {
        const line = raw.trim();
        if (!line || line.startsWith('#')) return;
        const eq = line.indexOf('=');
        if (eq < 0) throw new LxtsError(`metadata config:${i + 1}: expected "key = value", got "${line}"`, ExitCode.CONFIG);
        const key = line.slice(0, eq).trim();
        const value = line.slice(eq + 1).trim().replace(/LXC_NAME/g, name);
        if (!key.startsWith('lxc.')) throw new LxtsError(`metadata config:${i + 1}: "${key}" is not an lxc.* key`, ExitCode.CONFIG);
        if (value.includes('LXC_TEMPLATE_CONFIG') || value.includes('LXC_HOOK_DIR')) {
          md.warnings.push(`metadata config:${i + 1}: skipped "${key} = ${value}" (LXC's shared config files are not part of lxts)`);
          return;
        }
        if (key === 'lxc.rootfs.path' || key === 'lxc.rootfs' || key === 'lxc.rootfs.backend') {
          md.warnings.push(`metadata config:${i + 1}: skipped ${key} (the rootfs is lxts's)`);
          return;
        }
        md.config.push([key, value]);
      });
  }
  const list = files.get('templates');
  if (list) md.substitute = list.toString('utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  for (const [path, data] of files) {
    if (!path.startsWith('templates/')) continue;
    const target = path.slice('templates/'.length).replace(/\.tpl$/, '');
    if (!target) continue;
    md.files.set(target, renderTemplate(data.toString('utf8'), name));
  }
  const msg = files.get('create-message');
  if (msg) md.message = msg.toString('utf8').trim();
  return md;
}

/** `{{ container.name }}` (and `{{ container.hostname }}`) become the container's name. */
export function renderTemplate(text: string, name: string): string {
  return text.replace(/\{\{\s*container\.(name|hostname)\s*\}\}/g, name);
}

export const localTemplate: Template = {
  name: 'local',
  summary: 'from a rootfs tarball (tar, .gz, .xz, .zst, .bz2) and an optional LXC-style metadata tarball',
  help: templateHelp(
    'local',
    'A container from a rootfs tarball on this machine. The archive is checked before anything\n' +
      'is extracted (absolute paths, "..", links out are refused) and extracted with numeric\n' +
      'owners. A metadata tarball (LXC image style) may hold `config` (lxc.* lines added to the\n' +
      "container's config; LXC_NAME is replaced), `templates/PATH[.tpl]` (files written to PATH\n" +
      'in the rootfs with {{ container.name }} replaced) and `templates` (a list of rootfs files\n' +
      'in which LXC_NAME is replaced). A system container booting /sbin/init unless --kind or\n' +
      'the metadata says otherwise.',
    [
      ['--rootfs TARBALL', 'the root filesystem archive (required)'],
      ['--metadata TARBALL', 'LXC-style metadata: config, templates/'],
      ['--kind system|application', 'system (default): lxc.init.cmd = /sbin/init unless the metadata sets one'],
      ['--strip-components N', 'drop N leading path components (a tarball of rootfs/...)'],
    ],
  ),
  async create(ctx: TemplateContext): Promise<TemplateResult> {
    const v = parseTemplateArgs('local', ctx.args, OPTIONS);
    if (!v.rootfs) throw usageError('template local: --rootfs TARBALL is required', 'lxts create -t local -n NAME -- --rootfs rootfs.tar.xz');
    const kind = (v.kind ?? 'system') as string;
    if (kind !== 'system' && kind !== 'application') throw usageError(`template local: --kind must be system or application, got "${kind}"`);
    let strip = 0;
    if (v['strip-components'] !== undefined) {
      if (!/^\d+$/.test(String(v['strip-components']))) throw usageError('template local: --strip-components needs a whole number');
      strip = Number(v['strip-components']);
    }
    const rootfsTar = String(v.rootfs);
    for (const f of [rootfsTar, v.metadata as string | undefined]) {
      if (f === undefined) continue;
      if (!existsSync(f) || !statSync(f).isFile()) throw usageError(`template local: ${f}: no such file`);
    }
    let md: LocalMetadata | undefined;
    if (v.metadata) {
      const file = String(v.metadata);
      ctx.onProgress(`reading metadata ${file}`);
      const entries = await listTar(file, ctx.signal);
      const bad = unsafeEntry(entries);
      if (bad) throw new LxtsError(`template local: refusing ${file}: ${bad}`);
      const files = await readTarFiles(file, (n) => n === 'config' || n === 'templates' || n === 'create-message' || n.startsWith('templates/'), ctx.signal);
      md = parseMetadata(files, ctx.name);
      for (const w of md.warnings) ctx.onProgress('warning: ' + w);
    }
    throwIfAborted(ctx.signal);
    const mb = (statSync(rootfsTar).size / 1048576).toFixed(1);
    ctx.onProgress(`checking ${rootfsTar} (${mb} MB)`, 0);
    await safeExtract(rootfsTar, ctx.rootfs, { what: 'template local', signal: ctx.signal, strip });
    ctx.onProgress(`extracted ${rootfsTar}`, 1);
    const config: [string, string][] = [['lxc.uts.name', ctx.name]];
    if (md) {
      for (const [path, content] of md.files) writeFileIn(ctx.rootfs, path, content);
      for (const path of md.substitute) {
        const p = resolveIn(ctx.rootfs, path);
        if (!existsSync(p)) continue;
        writeFileIn(ctx.rootfs, path, readFileSync(p, 'utf8').replace(/LXC_NAME/g, ctx.name), statSync(p).mode & 0o7777);
      }
      config.push(...md.config.filter(([k]) => k !== 'lxc.uts.name' && k !== 'lxc.utsname'));
      if (md.message) ctx.onProgress(md.message);
    }
    const hasInit = config.some(([k]) => k === 'lxc.init.cmd' || k === 'lxc.execute.cmd');
    if (!hasInit && kind === 'system') {
      if (!existsSync(resolveIn(ctx.rootfs, '/sbin/init'))) ctx.onProgress('warning: the rootfs has no /sbin/init; set lxc.init.cmd before starting');
      config.push(['lxc.init.cmd', '/sbin/init']);
    }
    return { config, kind: kind as 'system' | 'application' };
  },
};

export { normalizeTarPath };
