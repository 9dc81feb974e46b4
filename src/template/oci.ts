// `oci`: an application container from an OCI image layout directory or a `docker save`
// tarball. Layers are verified (sha256 of each blob, and of each uncompressed layer against
// the config's diff_ids) and applied in order with whiteouts; the image config's
// Entrypoint + Cmd, Env, WorkingDir, User and StopSignal become config lines.
import { existsSync, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { parseTemplateArgs, templateHelp, type Template, type TemplateContext, type TemplateResult } from './common.js';
import { resolveOciLayout, resolveDockerSave, scanLayer, applyLayer, verifyLayerFile, resolveUser, type ImageConfig, type ResolvedImage } from './oci-image.js';
import { safeExtract } from './local.js';
import { unsafeEntry } from './tar.js';
import { quoteCommand, splitCommand, mkdirIn, throwIfAborted } from './util.js';
import { LxtsError, usageError } from '../errors.js';

const OPTIONS = {
  image: { type: 'string' },
  tag: { type: 'string' },
  command: { type: 'string' },
} as const;

/** Image config -> LXC config lines (the rootfs is needed only to look up a user name). */
export function ociConfigLines(name: string, c: ImageConfig, opts: { rootfs?: string; command?: string[] } = {}): [string, string][] {
  const args = [...(c.Entrypoint ?? []), ...(opts.command ?? c.Cmd ?? [])];
  if (args.length === 0) throw new LxtsError('template oci: the image has neither Entrypoint nor Cmd: nothing to run', 1, 'give one: lxts create -t oci -n NAME -- --image ... --command "/bin/sh"');
  const cmd = quoteCommand(args);
  const lines: [string, string][] = [
    ['lxc.uts.name', name],
    ['lxc.execute.cmd', cmd],
    ['lxc.init.cmd', cmd],
  ];
  if (c.WorkingDir) lines.push(['lxc.init.cwd', c.WorkingDir.startsWith('/') ? c.WorkingDir : '/' + c.WorkingDir]);
  if (c.User) {
    if (!opts.rootfs) throw new Error('ociConfigLines: a User needs the rootfs');
    const { uid, gid } = resolveUser(opts.rootfs, c.User);
    lines.push(['lxc.init.uid', String(uid)], ['lxc.init.gid', String(gid)]);
  }
  for (const e of c.Env ?? []) {
    if (/[\n\r\0]/.test(e)) throw new LxtsError(`template oci: environment entry ${JSON.stringify(e)} holds a newline: it cannot be written in a config file`);
    const key = e.includes('=') ? e.slice(0, e.indexOf('=')) : e;
    if (!key || /\s/.test(key)) throw new LxtsError(`template oci: bad environment entry ${JSON.stringify(e)} in the image config`);
    lines.push(['lxc.environment', e]);
  }
  lines.push(['lxc.signal.halt', stopSignal(c.StopSignal)]);
  return lines;
}

function stopSignal(s: string | undefined): string {
  if (!s) return 'SIGTERM';
  if (/^\d+$/.test(s)) return s;
  const up = s.toUpperCase();
  return up.startsWith('SIG') ? up : 'SIG' + up;
}

export const ociTemplate: Template = {
  name: 'oci',
  summary: 'from an OCI image layout directory or a `docker save` tarball (application container)',
  help: templateHelp(
    'oci',
    'An application container from an OCI image: an image layout directory (index.json,\n' +
      'blobs/) or a tarball (`docker save`, or an OCI layout in a tar). Every blob\'s sha256 is\n' +
      'checked; layers (uncompressed, gzip, zstd) are applied in order with whiteouts. The\n' +
      "image's Entrypoint+Cmd become lxc.execute.cmd and lxc.init.cmd, Env lxc.environment,\n" +
      'WorkingDir lxc.init.cwd, User lxc.init.uid/gid, StopSignal lxc.signal.halt (default\n' +
      'SIGTERM). Nothing is downloaded: get images with skopeo, docker save, or buildah.',
    [
      ['--image DIR|FILE.tar', 'the image (required)'],
      ['--tag TAG', 'which image when there are several (e.g. latest, busybox:1.36)'],
      ['--command CMD', "replace the image's Cmd (a command line; the Entrypoint stays)"],
    ],
  ),
  async create(ctx: TemplateContext): Promise<TemplateResult> {
    const v = parseTemplateArgs('oci', ctx.args, OPTIONS);
    if (!v.image) throw usageError('template oci: --image DIR|FILE.tar is required', 'lxts create -t oci -n NAME -- --image ./busybox-oci');
    const image = String(v.image);
    if (!existsSync(image)) throw usageError(`template oci: ${image}: no such file or directory`);
    const tag = v.tag === undefined ? undefined : String(v.tag);
    const command = v.command === undefined ? undefined : splitCommand(String(v.command));
    let staging: string | undefined;
    try {
      let img: ResolvedImage;
      if (statSync(image).isDirectory()) {
        img = resolveOciLayout(image, tag);
      } else {
        mkdirSync(`${ctx.cacheDir}/oci`, { recursive: true });
        staging = mkdtempSync(`${ctx.cacheDir}/oci/unpack-`);
        ctx.onProgress(`unpacking ${image}`);
        await safeExtract(image, staging, { what: 'template oci', signal: ctx.signal });
        if (existsSync(`${staging}/index.json`)) img = resolveOciLayout(staging, tag);
        else if (existsSync(`${staging}/manifest.json`)) img = resolveDockerSave(staging, tag);
        else throw new LxtsError(`template oci: ${image} is neither a docker save archive (manifest.json) nor an OCI layout (index.json)`);
      }
      ctx.onProgress(`image ${img.ref}: ${img.layers.length} layer${img.layers.length === 1 ? '' : 's'}`);
      for (const [i, l] of img.layers.entries()) {
        throwIfAborted(ctx.signal);
        const n = `${i + 1}/${img.layers.length}`;
        ctx.onProgress(`layer ${n}: verifying ${l.digest ?? l.path}`, i / img.layers.length);
        await verifyLayerFile(l);
        const plan = await scanLayer(l.path, ctx.signal);
        if (l.diffId && plan.diffId !== l.diffId) throw new LxtsError(`template oci: layer ${n} (${l.digest ?? l.path}) does not match the image config: its content hashes to ${plan.diffId}, diff_ids says ${l.diffId}`);
        const bad = unsafeEntry(plan.entries);
        if (bad) throw new LxtsError(`template oci: layer ${n}: refusing ${bad}`);
        ctx.onProgress(`layer ${n}: applying ${plan.entries.length} entries${plan.whiteouts.length + plan.opaque.length ? `, ${plan.whiteouts.length + plan.opaque.length} whiteouts` : ''}`, (i + 0.5) / img.layers.length);
        await applyLayer(ctx.rootfs, l.path, plan, ctx.signal);
      }
      ctx.onProgress('layers applied', 1);
      const c = img.config;
      if (c.WorkingDir) mkdirIn(ctx.rootfs, c.WorkingDir);
      for (const d of ['proc', 'sys', 'dev']) mkdirIn(ctx.rootfs, d, 0o755);
      return { config: ociConfigLines(ctx.name, c, { rootfs: ctx.rootfs, command }), kind: 'application' };
    } finally {
      if (staging) rmSync(staging, { recursive: true, force: true });
    }
  },
};
