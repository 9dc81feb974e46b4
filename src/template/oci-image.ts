// OCI images on disk: an image layout directory (oci-layout, index.json, blobs/), or a
// `docker save` tarball (manifest.json, config JSON, layer tarballs; newer Docker writes an
// OCI layout beside it). Resolves a tag to a config and an ordered list of layer files,
// verifies sha256 digests, and applies layers to a rootfs with whiteouts.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { LxtsError } from '../errors.js';
import { scanTarStream, openDecompressed, normalizeTarPath, type TarEntry } from './tar.js';
import { run, fileCompression, resolveIn, throwIfAborted, type Compression } from './util.js';

export interface ImageConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Env?: string[] | null;
  WorkingDir?: string;
  User?: string;
  StopSignal?: string;
}

export interface LayerRef {
  /** File on disk. */
  path: string;
  /** sha256:... of the file (OCI blobs), checked before use. */
  digest?: string;
  /** sha256:... of the uncompressed tar (the image config's rootfs.diff_ids), checked while reading. */
  diffId?: string;
  size?: number;
}

export interface ResolvedImage {
  format: 'oci' | 'docker-save';
  /** The tag or name chosen (for messages). */
  ref: string;
  config: ImageConfig;
  /** The raw image config JSON. */
  raw: Record<string, unknown>;
  layers: LayerRef[];
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[process.arch] ?? process.arch;
}

function err(msg: string): LxtsError {
  return new LxtsError(`template oci: ${msg}`);
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw err(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/** sha256 of a file, streamed. */
export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve('sha256:' + h.digest('hex')));
  });
}

function blobPath(dir: string, digest: string): string {
  const m = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-fA-F0-9]{32,})$/.exec(digest);
  if (!m) throw err(`bad digest "${digest}"`);
  if (m[1] !== 'sha256') throw err(`digest algorithm ${m[1]} is not supported (sha256 is)`);
  return `${dir}/blobs/${m[1]}/${m[2]}`;
}

/** Read a small blob and check its digest (and size when the descriptor gives one). */
export function readBlob(dir: string, d: Descriptor, what: string): Buffer {
  const path = blobPath(dir, d.digest);
  if (!existsSync(path)) throw err(`${what} blob ${d.digest} is missing from the image`);
  const data = readFileSync(path);
  const got = 'sha256:' + createHash('sha256').update(data).digest('hex');
  if (got !== d.digest) throw err(`digest mismatch for ${what} ${d.digest}: the file hashes to ${got}`);
  if (d.size !== undefined && d.size !== data.length) throw err(`size mismatch for ${what} ${d.digest}: ${data.length} bytes, descriptor says ${d.size}`);
  return data;
}

function refNames(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  return [a['org.opencontainers.image.ref.name'], a['io.containerd.image.name']].filter((x): x is string => !!x);
}

/** Does an image name/tag match what the user asked for? "latest" matches "busybox:latest". */
export function tagMatches(candidate: string, wanted: string): boolean {
  if (candidate === wanted) return true;
  if (candidate.endsWith(':' + wanted) || candidate.endsWith('/' + wanted)) return true;
  if (!wanted.includes(':') && (candidate === wanted + ':latest' || candidate.endsWith('/' + wanted + ':latest'))) return true;
  return false;
}

/** Resolve an OCI image layout directory. */
export function resolveOciLayout(dir: string, tag?: string): ResolvedImage {
  if (!existsSync(`${dir}/index.json`)) throw err(`${dir} is not an OCI image layout (no index.json)`);
  const layoutFile = `${dir}/oci-layout`;
  if (existsSync(layoutFile)) {
    const l = parseJson<{ imageLayoutVersion?: string }>(readFileSync(layoutFile, 'utf8'), 'oci-layout');
    if (!l.imageLayoutVersion?.startsWith('1.')) throw err(`unsupported image layout version ${l.imageLayoutVersion ?? '(none)'}`);
  }
  const index = parseJson<{ manifests?: Descriptor[] }>(readFileSync(`${dir}/index.json`, 'utf8'), 'index.json');
  const all = index.manifests ?? [];
  if (all.length === 0) throw err(`${dir}/index.json lists no images`);
  let chosen: Descriptor | undefined;
  if (tag !== undefined) {
    chosen = all.find((d) => refNames(d).some((n) => tagMatches(n, tag)));
    if (!chosen) throw err(`no image tagged "${tag}" in ${dir} (tags: ${all.flatMap(refNames).join(', ') || 'none'})`);
  } else if (all.length === 1) chosen = all[0];
  else {
    const names = all.flatMap(refNames);
    throw err(`${dir} holds ${all.length} images: choose one with --tag (tags: ${names.join(', ') || 'none'})`);
  }
  let desc = chosen!;
  const ref = tag ?? refNames(desc)[0] ?? desc.digest;
  // An index inside the index: pick this machine's platform.
  for (let depth = 0; INDEX_TYPES.includes(desc.mediaType ?? ''); depth++) {
    if (depth > 4) throw err('image indexes nested too deep');
    const sub = parseJson<{ manifests?: Descriptor[] }>(readBlob(dir, desc, 'image index').toString('utf8'), 'image index');
    const arch = hostArch();
    const match = (sub.manifests ?? []).find((m) => (m.platform?.os ?? 'linux') === 'linux' && m.platform?.architecture === arch);
    if (!match) throw err(`image ${ref} has no linux/${arch} variant (has: ${(sub.manifests ?? []).map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ')})`);
    desc = match;
  }
  const manifest = parseJson<{ config?: Descriptor; layers?: Descriptor[] }>(readBlob(dir, desc, 'manifest').toString('utf8'), 'manifest');
  if (!manifest.config) throw err(`manifest ${desc.digest} has no config`);
  const raw = parseJson<Record<string, unknown>>(readBlob(dir, manifest.config, 'image config').toString('utf8'), 'image config');
  const diffIds = ((raw.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []) as string[];
  const layers = (manifest.layers ?? []).map((l, i) => {
    if (/nondistributable|foreign/.test(l.mediaType ?? '') && !existsSync(blobPath(dir, l.digest))) throw err(`layer ${l.digest} is a foreign layer that is not in the image`);
    return { path: blobPath(dir, l.digest), digest: l.digest, size: l.size, diffId: diffIds[i] };
  });
  return { format: 'oci', ref, config: imageConfigOf(raw), raw, layers };
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/** Parse a `docker save` manifest.json and choose the entry for `tag`. */
export function parseDockerManifest(text: string, tag?: string): DockerManifestEntry {
  const m = parseJson<unknown>(text, 'manifest.json');
  if (!Array.isArray(m) || m.length === 0) throw err('manifest.json is not a non-empty list of images');
  for (const e of m as DockerManifestEntry[]) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers) || e.Layers.some((l) => typeof l !== 'string')) throw err('manifest.json entry without Config and Layers');
    for (const p of [e.Config, ...e.Layers]) if (p.startsWith('/') || p.split('/').includes('..')) throw err(`manifest.json names a path outside the archive: ${p}`);
  }
  const entries = m as DockerManifestEntry[];
  if (tag !== undefined) {
    const found = entries.find((e) => (e.RepoTags ?? []).some((t) => tagMatches(t, tag)));
    if (!found) throw err(`no image tagged "${tag}" in the archive (tags: ${entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'none'})`);
    return found;
  }
  if (entries.length > 1) throw err(`the archive holds ${entries.length} images: choose one with --tag (tags: ${entries.flatMap((e) => e.RepoTags ?? []).join(', ')})`);
  return entries[0]!;
}

/** Resolve an extracted `docker save` archive. */
export function resolveDockerSave(dir: string, tag?: string): ResolvedImage {
  const entry = parseDockerManifest(readFileSync(`${dir}/manifest.json`, 'utf8'), tag);
  const cfgPath = `${dir}/${entry.Config}`;
  if (!existsSync(cfgPath)) throw err(`image config ${entry.Config} is missing from the archive`);
  const cfgData = readFileSync(cfgPath);
  // The config's file name is its digest (the image ID): <hex>.json or blobs/sha256/<hex>.
  const hex = /([a-f0-9]{64})(\.json)?$/.exec(entry.Config)?.[1];
  if (hex) {
    const got = createHash('sha256').update(cfgData).digest('hex');
    if (got !== hex) throw err(`digest mismatch for image config ${entry.Config}: the file hashes to sha256:${got}`);
  }
  const raw = parseJson<Record<string, unknown>>(cfgData.toString('utf8'), `image config ${entry.Config}`);
  const diffIds = ((raw.rootfs as { diff_ids?: string[] } | undefined)?.diff_ids ?? []) as string[];
  if (diffIds.length && diffIds.length !== entry.Layers.length) throw err(`the image config lists ${diffIds.length} layers, manifest.json ${entry.Layers.length}`);
  const layers = entry.Layers.map((l, i) => {
    const p = `${dir}/${l}`;
    if (!existsSync(p)) throw err(`layer ${l} is missing from the archive`);
    const lhex = /blobs\/sha256\/([a-f0-9]{64})$/.exec(l)?.[1];
    return { path: p, digest: lhex ? 'sha256:' + lhex : undefined, diffId: diffIds[i] };
  });
  return { format: 'docker-save', ref: tag ?? entry.RepoTags?.[0] ?? entry.Config, config: imageConfigOf(raw), raw, layers };
}

export function imageConfigOf(raw: Record<string, unknown>): ImageConfig {
  const c = (raw.config ?? raw.container_config ?? {}) as ImageConfig;
  return c;
}

// ---- layers ----

export interface LayerPlan {
  entries: TarEntry[];
  /** Paths (relative) removed by whiteouts. */
  whiteouts: string[];
  /** Directories (relative) made opaque. */
  opaque: string[];
  /** sha256 of the uncompressed stream. */
  diffId: string;
  compression: Compression;
}

/** Read a layer once: its entries, whiteouts, and the digest of its uncompressed tar. */
export async function scanLayer(path: string, signal?: AbortSignal): Promise<LayerPlan> {
  const compression = fileCompression(path);
  const stream = openDecompressed(path, compression, signal);
  const h = createHash('sha256');
  stream.on('data', (d: Buffer) => h.update(d));
  const entries: TarEntry[] = [];
  await scanTarStream(stream, (e) => {
    entries.push(e);
  });
  const whiteouts: string[] = [];
  const opaque: string[] = [];
  for (const e of entries) {
    if (e.path.startsWith('/') || e.path.split('/').includes('..')) throw err(`layer ${path}: refusing entry "${e.path}" (path traversal)`);
    if (e.type === 'hardlink' && (e.linkname.startsWith('/') || e.linkname.split('/').includes('..'))) throw err(`layer ${path}: refusing hard link "${e.path}" -> "${e.linkname}"`);
    const p = normalizeTarPath(e.path);
    const slash = p.lastIndexOf('/');
    const dir = slash < 0 ? '' : p.slice(0, slash);
    const base = p.slice(slash + 1);
    if (base === '.wh..wh..opq') opaque.push(dir);
    else if (base.startsWith('.wh.')) {
      const target = base.slice(4);
      if (!target || target === '.' || target === '..') throw err(`layer ${path}: bad whiteout "${e.path}"`);
      whiteouts.push(dir ? `${dir}/${target}` : target);
    }
  }
  return { entries, whiteouts, opaque, diffId: 'sha256:' + h.digest('hex'), compression };
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

/**
 * Prefixes of `rel` that exist in the rootfs as symlinks: writing `rel` would follow them,
 * perhaps out of the rootfs. `replaced` are paths this layer itself recreates first.
 */
function symlinkPrefix(root: string, rel: string, replaced: Set<string>): string | undefined {
  const parts = rel.split('/');
  for (let i = 1; i < parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    if (replaced.has(prefix)) return undefined; // this layer removes the symlink and makes a directory
    const st = lstatOrNull(`${root}/${prefix}`);
    if (!st) return undefined;
    if (st.isSymbolicLink()) return prefix;
    if (!st.isDirectory()) return undefined;
  }
  return undefined;
}

/**
 * Apply one layer: whiteouts and opaque directories remove what lower layers left, entries
 * that change a path's kind (dir <-> file) remove the old one, then the host's tar extracts
 * everything but the whiteout markers, with numeric owners.
 */
export async function applyLayer(root: string, layerPath: string, plan: LayerPlan, signal?: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  const dirsInLayer = new Set(plan.entries.filter((e) => e.type === 'dir').map((e) => normalizeTarPath(e.path)));
  const check = (rel: string, what: string): void => {
    const via = symlinkPrefix(root, rel, dirsInLayer);
    if (via) throw err(`layer ${layerPath}: ${what} "${rel}" goes through the symlink "${via}" of a lower layer (refused: it could leave the rootfs)`);
  };
  for (const dir of plan.opaque) {
    if (dir) check(dir + '/x', 'opaque directory');
    const abs = dir ? `${root}/${dir}` : root;
    const st = lstatOrNull(abs);
    if (!st?.isDirectory()) continue;
    for (const child of readdirSync(abs)) rmSync(`${abs}/${child}`, { recursive: true, force: true });
  }
  for (const w of plan.whiteouts) {
    check(w, 'whiteout');
    rmSync(`${root}/${w}`, { recursive: true, force: true });
  }
  for (const e of plan.entries) {
    const p = normalizeTarPath(e.path);
    if (!p) continue;
    const base = p.slice(p.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.')) continue;
    check(p, 'entry');
    if (e.type === 'hardlink') check(normalizeTarPath(e.linkname), 'hard link target');
    const st = lstatOrNull(`${root}/${p}`);
    if (!st) continue;
    if (e.type === 'dir' && !st.isDirectory()) unlinkSync(`${root}/${p}`);
    else if (e.type !== 'dir' && st.isDirectory()) rmSync(`${root}/${p}`, { recursive: true, force: true });
  }
  const flag = { none: [], gzip: ['-z'], xz: ['-J'], zstd: ['--zstd'], bzip2: ['-j'] }[plan.compression];
  await run('tar', ['--numeric-owner', '--same-permissions', '--same-owner', '--xattrs', '--xattrs-include=security.capability', '--xattrs-include=user.*', ...flag, '-x', '-f', layerPath, '-C', root, '--exclude=.wh.*'], { signal, what: `template oci: extracting layer ${layerPath}` });
}

/** Verify a layer file against its descriptor before reading it. */
export async function verifyLayerFile(l: LayerRef): Promise<void> {
  if (l.size !== undefined) {
    const size = statSync(l.path).size;
    if (size !== l.size) throw err(`size mismatch for layer ${l.digest}: ${size} bytes, descriptor says ${l.size}`);
  }
  if (l.digest) {
    const got = await sha256File(l.path);
    if (got !== l.digest) throw err(`digest mismatch for layer ${l.digest}: the file hashes to ${got}`);
  }
}

// ---- users ----

/** "uid[:gid]" or "name[:group]" -> numbers, names looked up in the rootfs's /etc/passwd and /etc/group. */
export function resolveUser(root: string, user: string): { uid: number; gid: number } {
  const [u, g] = user.split(':', 2) as [string, string | undefined];
  const passwd = readDb(root, '/etc/passwd');
  let uid: number;
  let gid: number | undefined;
  if (/^\d+$/.test(u)) {
    uid = Number(u);
    const row = passwd.find((r) => r[2] === u);
    if (row && /^\d+$/.test(row[3] ?? '')) gid = Number(row[3]);
  } else {
    const row = passwd.find((r) => r[0] === u);
    if (!row) throw err(`the image's user "${u}" is not in its /etc/passwd`);
    uid = Number(row[2]);
    gid = Number(row[3]);
  }
  if (g !== undefined && g !== '') {
    if (/^\d+$/.test(g)) gid = Number(g);
    else {
      const row = readDb(root, '/etc/group').find((r) => r[0] === g);
      if (!row) throw err(`the image's group "${g}" is not in its /etc/group`);
      gid = Number(row[2]);
    }
  }
  return { uid, gid: gid ?? 0 };
}

function readDb(root: string, path: string): string[][] {
  try {
    return readFileSync(resolveIn(root, path), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}
