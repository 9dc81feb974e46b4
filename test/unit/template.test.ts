// Templates without root: the tar reader/writer, archive safety checks, OCI images built in
// the test (layers with whiteouts, digest checks, docker save manifests), image config ->
// config lines, and the registry's argument parsing.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, existsSync, readlinkSync, symlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { makeTar, listTar, readTarFiles, unsafeEntry, type TarInput } from '../../src/template/tar.js';
import { quoteCommand, splitCommand, resolveIn, detectCompression } from '../../src/template/util.js';
import { parseDockerManifest, tagMatches, resolveUser } from '../../src/template/oci-image.js';
import { ociConfigLines } from '../../src/template/oci.js';
import { parseMetadata, renderTemplate } from '../../src/template/local.js';
import { TEMPLATES, getTemplate, parseTemplateArgs, wantsHelp, type TemplateContext, type TemplateResult } from '../../src/template/index.js';
import { DebootstrapProgress, parseDebianArgs, cacheKey, configureDebianRootfs, SYSVINIT_INITTAB } from '../../src/template/debian.js';
import { LxtsError, ExitCode } from '../../src/errors.js';

const T = { timeout: 30000 };
const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

function tmp(): string {
  return mkdtempSync(`${tmpdir()}/lxts-tpl-unit-`);
}

function ctxFor(dir: string, name: string, args: string[], log: string[] = []): TemplateContext {
  const rootfs = `${dir}/ct/rootfs`;
  mkdirSync(rootfs, { recursive: true });
  return { name, containerDir: `${dir}/ct`, rootfs, args, cacheDir: `${dir}/cache`, onProgress: (m) => log.push(m) };
}

const own = (e: Omit<TarInput, 'type'> & { type?: string }): TarInput => ({ uid, gid, ...e }) as TarInput;

function sha(b: Buffer): string {
  return 'sha256:' + createHash('sha256').update(b).digest('hex');
}

/** An OCI image layout with the given layers (tar buffers, gzip-compressed when asked). */
function writeOciLayout(dir: string, layers: { tar: Buffer; gzip?: boolean }[], config: Record<string, unknown>, tag = 'latest'): { blobs: Record<string, string> } {
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  const blobs: Record<string, string> = {};
  const put = (b: Buffer): { digest: string; size: number } => {
    const d = sha(b);
    writeFileSync(`${dir}/blobs/sha256/${d.slice(7)}`, b);
    return { digest: d, size: b.length };
  };
  const layerDescs = layers.map((l, i) => {
    const blob = l.gzip ? gzipSync(l.tar) : l.tar;
    const d = put(blob);
    blobs[`layer${i}`] = d.digest;
    return { mediaType: l.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', ...d };
  });
  const cfg = { architecture: 'amd64', os: 'linux', config, rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l.tar)) } };
  const cfgDesc = { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(Buffer.from(JSON.stringify(cfg))) };
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: cfgDesc, layers: layerDescs };
  const mDesc = { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(Buffer.from(JSON.stringify(manifest))), annotations: { 'org.opencontainers.image.ref.name': tag } };
  writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [mDesc] }));
  writeFileSync(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  blobs.config = cfgDesc.digest;
  return { blobs };
}

const LAYER1: TarInput[] = [
  { path: 'etc', type: 'dir' },
  { path: 'etc/a', content: 'a\n' },
  { path: 'etc/b', content: 'b\n' },
  { path: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001:app:/home/app:/bin/sh\n' },
  { path: 'etc/group', content: 'root:x:0:\napp:x:1001:\nstaff:x:50:\n' },
  { path: 'opt', type: 'dir' },
  { path: 'opt/d', type: 'dir' },
  { path: 'opt/d/x', content: 'x' },
  { path: 'opt/d/y', content: 'y' },
  { path: 'opt/gone', type: 'dir' },
  { path: 'opt/gone/deep', content: 'deep' },
  { path: 'opt/kind', type: 'dir' },
  { path: 'opt/kind/inner', content: 'i' },
  { path: 'bin', type: 'dir' },
  { path: 'bin/tool', content: '#!/bin/sh\n', mode: 0o755 },
  { path: 'bin/alias', type: 'symlink', linkname: 'tool' },
].map(own);

const LAYER2: TarInput[] = [
  { path: 'etc', type: 'dir' },
  { path: 'etc/.wh.a', content: '' },
  { path: 'opt', type: 'dir' },
  { path: 'opt/.wh.gone', content: '' },
  { path: 'opt/d', type: 'dir' },
  { path: 'opt/d/.wh..wh..opq', content: '' },
  { path: 'opt/d/z', content: 'z' },
  { path: 'opt/kind', content: 'now a file' },
  { path: 'etc/new', content: 'new\n' },
].map(own);

test('tar: writer and reader agree (long names via pax, links, dirs)', T, async () => {
  const dir = tmp();
  try {
    const long = 'd/' + 'x'.repeat(150) + '/file';
    writeFileSync(`${dir}/t.tar`, makeTar([{ path: 'd', type: 'dir' }, { path: long, content: 'hello' }, { path: 'd/l', type: 'symlink', linkname: '../' + 'y'.repeat(120) }, { path: 'd/h', type: 'hardlink', linkname: long }]));
    writeFileSync(`${dir}/t.tar.gz`, gzipSync(readFileSync(`${dir}/t.tar`)));
    for (const f of ['t.tar', 't.tar.gz']) {
      const e = await listTar(`${dir}/${f}`);
      assert.deepEqual(e.map((x) => [x.path, x.type]), [['d/', 'dir'], [long, 'file'], ['d/l', 'symlink'], ['d/h', 'hardlink']]);
      assert.equal(e[2]!.linkname, '../' + 'y'.repeat(120));
      assert.equal(e[1]!.size, 5);
      const files = await readTarFiles(`${dir}/${f}`, (n) => n === long);
      assert.equal(files.get(long)?.toString(), 'hello');
    }
    assert.equal(detectCompression(readFileSync(`${dir}/t.tar.gz`)), 'gzip');
    assert.equal(detectCompression(readFileSync(`${dir}/t.tar`)), 'none');
    // GNU tar reads what we write
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('tar', ['-tf', `${dir}/t.tar`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(long));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tar: a truncated or corrupt archive is an error', T, async () => {
  const dir = tmp();
  try {
    const t = makeTar([{ path: 'f', content: 'x'.repeat(2000) }]);
    writeFileSync(`${dir}/trunc.tar`, t.subarray(0, 1024));
    await assert.rejects(listTar(`${dir}/trunc.tar`), /truncated/);
    const bad = Buffer.from(t);
    bad[10] = 0x41;
    writeFileSync(`${dir}/bad.tar`, bad);
    await assert.rejects(listTar(`${dir}/bad.tar`), /checksum/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('unsafeEntry: absolute paths, "..", links out, writes through own symlinks', T, () => {
  const e = (path: string, type: TarInput['type'] = 'file', linkname = '') => ({ path, type: type!, size: 0, mode: 0o644, uid: 0, gid: 0, mtime: 0, linkname });
  assert.equal(unsafeEntry([e('./etc/', 'dir'), e('./etc/passwd'), e('./bin', 'symlink', 'usr/bin'), e('./usr/bin/sh')]), undefined);
  assert.match(unsafeEntry([e('/etc/passwd')])!, /absolute path/);
  assert.match(unsafeEntry([e('a/../../etc/passwd')])!, /\.\./);
  assert.match(unsafeEntry([e('h', 'hardlink', '/etc/shadow')])!, /hard link/);
  assert.match(unsafeEntry([e('h', 'hardlink', '../x')])!, /hard link/);
  assert.match(unsafeEntry([e('a', 'symlink', '/etc'), e('a/passwd')])!, /through the symlink "a"/);
  // a symlink later replaced by a directory is fine
  assert.equal(unsafeEntry([e('a', 'symlink', '/etc'), e('a', 'dir'), e('a/passwd')]), undefined);
  // absolute symlink targets are normal in a rootfs
  assert.equal(unsafeEntry([e('etc/localtime', 'symlink', '/usr/share/zoneinfo/UTC')]), undefined);
});

test('local: a tarball with path traversal is refused before anything is written', T, async () => {
  const dir = tmp();
  try {
    for (const [name, entries] of [
      ['dotdot', [{ path: 'ok', content: 'ok' }, { path: '../escaped', content: 'x' }]],
      ['abs', [{ path: `${dir}/escaped-abs`, content: 'x' }]],
      ['symlink', [{ path: 'l', type: 'symlink', linkname: dir }, { path: 'l/escaped-link', content: 'x' }]],
    ] as [string, TarInput[]][]) {
      writeFileSync(`${dir}/${name}.tar.gz`, gzipSync(makeTar(entries.map(own))));
      const ctx = ctxFor(`${dir}/${name}`, 'c', ['--rootfs', `${dir}/${name}.tar.gz`]);
      await assert.rejects(TEMPLATES.local!.create(ctx), (err: unknown) => err instanceof LxtsError && /refusing .*(\.\.|absolute|symlink)/.test(err.message));
      assert.deepEqual(readdirSync(ctx.rootfs), [], `${name}: nothing extracted`);
    }
    assert.ok(!existsSync(`${dir}/escaped`) && !existsSync(`${dir}/escaped-abs`) && !existsSync(`${dir}/escaped-link`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local: rootfs and metadata tarballs (config merged, templates rendered)', T, async () => {
  const dir = tmp();
  try {
    writeFileSync(`${dir}/rootfs.tar`, makeTar([{ path: './', type: 'dir' }, { path: './etc', type: 'dir' }, { path: './etc/motd', content: 'welcome to LXC_NAME\n' }, { path: './sbin', type: 'dir' }, { path: './sbin/init', content: '#!/bin/sh\n', mode: 0o755 }].map(own)));
    writeFileSync(
      `${dir}/meta.tar.gz`,
      gzipSync(
        makeTar(
          [
            { path: 'config', content: '# image config\nlxc.include = LXC_TEMPLATE_CONFIG/debian.common.conf\nlxc.signal.halt = SIGRTMIN+3\nlxc.environment = WHO=LXC_NAME\n' },
            { path: 'templates', content: '/etc/motd\n' },
            { path: 'templates/etc/hostname.tpl', content: '{{ container.name }}\n' },
            { path: 'create-message', content: 'enjoy' },
          ].map(own),
        ),
      ),
    );
    const log: string[] = [];
    const ctx = ctxFor(dir, 'box1', ['--rootfs', `${dir}/rootfs.tar`, '--metadata', `${dir}/meta.tar.gz`], log);
    const r = await TEMPLATES.local!.create(ctx);
    assert.equal(r.kind, 'system');
    assert.deepEqual(r.config, [['lxc.uts.name', 'box1'], ['lxc.signal.halt', 'SIGRTMIN+3'], ['lxc.environment', 'WHO=box1'], ['lxc.init.cmd', '/sbin/init']]);
    assert.equal(readFileSync(`${ctx.rootfs}/etc/hostname`, 'utf8'), 'box1\n');
    assert.equal(readFileSync(`${ctx.rootfs}/etc/motd`, 'utf8'), 'welcome to box1\n');
    assert.ok(log.some((l) => /skipped .*LXC_TEMPLATE_CONFIG/.test(l)));
    assert.ok(log.includes('enjoy'));
    await assert.rejects(TEMPLATES.local!.create(ctxFor(`${dir}/x`, 'c', [])), /--rootfs TARBALL is required/);
    await assert.rejects(TEMPLATES.local!.create(ctxFor(`${dir}/y`, 'c', ['--rootfs', `${dir}/nope.tar`])), /no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('local metadata: parse errors name the line; renderTemplate', T, () => {
  assert.throws(() => parseMetadata(new Map([['config', Buffer.from('lxc.a = 1\nnonsense\n')]]), 'n'), /config:2: expected "key = value"/);
  assert.throws(() => parseMetadata(new Map([['config', Buffer.from('foo.bar = 1\n')]]), 'n'), /config:1: "foo.bar" is not an lxc/);
  assert.equal(renderTemplate('{{container.name}} {{ container.hostname }} {{ other }}', 'web'), 'web web {{ other }}');
});

test('oci: layers applied in order with whiteouts and opaque directories; config lines from the image', T, async () => {
  const dir = tmp();
  try {
    writeOciLayout(`${dir}/img`, [{ tar: makeTar(LAYER1), gzip: true }, { tar: makeTar(LAYER2) }], {
      Entrypoint: ['/bin/tool', '--flag'],
      Cmd: ['hello world', "it's"],
      Env: ['PATH=/usr/bin:/bin', 'GREETING=a "quoted" value'],
      WorkingDir: '/srv/app',
      User: 'app',
      StopSignal: 'SIGQUIT',
    });
    const log: string[] = [];
    const ctx = ctxFor(dir, 'oci1', ['--image', `${dir}/img`], log);
    const r = await TEMPLATES.oci!.create(ctx);
    const R = ctx.rootfs;
    assert.equal(r.kind, 'application');
    assert.ok(!existsSync(`${R}/etc/a`), 'whiteout removed etc/a');
    assert.equal(readFileSync(`${R}/etc/b`, 'utf8'), 'b\n');
    assert.equal(readFileSync(`${R}/etc/new`, 'utf8'), 'new\n');
    assert.ok(!existsSync(`${R}/opt/gone`), 'whiteout removed a whole directory');
    assert.deepEqual(readdirSync(`${R}/opt/d`), ['z'], 'opaque directory keeps only the upper layer');
    assert.equal(readFileSync(`${R}/opt/kind`, 'utf8'), 'now a file', 'a directory replaced by a file');
    assert.equal(readlinkSync(`${R}/bin/alias`), 'tool');
    assert.ok(!readdirSync(R, { recursive: true }).some((p) => String(p).includes('.wh.')), 'no whiteout markers left');
    assert.ok(existsSync(`${R}/srv/app`), 'WorkingDir created');
    const get = (k: string) => r.config.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(splitCommand(get('lxc.execute.cmd')[0]!), ['/bin/tool', '--flag', 'hello world', "it's"]);
    assert.deepEqual(get('lxc.init.cmd'), get('lxc.execute.cmd'));
    assert.deepEqual(get('lxc.environment'), ['PATH=/usr/bin:/bin', 'GREETING=a "quoted" value']);
    assert.deepEqual(get('lxc.init.cwd'), ['/srv/app']);
    assert.deepEqual([get('lxc.init.uid'), get('lxc.init.gid')], [['1000'], ['1001']]);
    assert.deepEqual(get('lxc.signal.halt'), ['SIGQUIT']);
    assert.ok(log.some((l) => /layer 2\/2: applying .*whiteouts/.test(l)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oci: a blob whose sha256 does not match is refused', T, async () => {
  const dir = tmp();
  try {
    const { blobs } = writeOciLayout(`${dir}/img`, [{ tar: makeTar(LAYER1) }], { Cmd: ['/bin/tool'] });
    const p = `${dir}/img/blobs/sha256/${blobs.layer0!.slice(7)}`;
    const b = readFileSync(p);
    b[600] ^= 0xff;
    writeFileSync(p, b);
    const ctx = ctxFor(dir, 'c', ['--image', `${dir}/img`]);
    await assert.rejects(TEMPLATES.oci!.create(ctx), (e: unknown) => e instanceof LxtsError && /digest mismatch for layer sha256:[0-9a-f]{64}: the file hashes to sha256:/.test(e.message));
    // a corrupted config blob too
    const dir2 = `${dir}/two`;
    const w = writeOciLayout(`${dir2}/img`, [{ tar: makeTar(LAYER1) }], { Cmd: ['/bin/tool'] });
    writeFileSync(`${dir2}/img/blobs/sha256/${w.blobs.config!.slice(7)}`, '{"config":{"Cmd":["/bin/evil"]}}');
    await assert.rejects(TEMPLATES.oci!.create(ctxFor(dir2, 'c', ['--image', `${dir2}/img`])), /digest mismatch for image config/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oci: a layer that writes through a lower layer\'s symlink is refused', T, async () => {
  const dir = tmp();
  try {
    const l1 = makeTar([{ path: 'etc', type: 'symlink', linkname: '/etc' }].map(own));
    const l2 = makeTar([{ path: 'etc/evil', content: 'x' }].map(own));
    writeOciLayout(`${dir}/img`, [{ tar: l1 }, { tar: l2 }], { Cmd: ['/x'] });
    await assert.rejects(TEMPLATES.oci!.create(ctxFor(dir, 'c', ['--image', `${dir}/img`])), /goes through the symlink "etc"/);
    assert.ok(!existsSync('/etc/evil'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('oci: docker save tarball (manifest.json, config named by its digest, layer.tar)', T, async () => {
  const dir = tmp();
  try {
    const l1 = makeTar(LAYER1);
    const l2 = makeTar(LAYER2);
    const cfg = Buffer.from(JSON.stringify({ config: { Cmd: ['/bin/tool'], Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [sha(l1), sha(l2)] } }));
    const cfgName = sha(cfg).slice(7) + '.json';
    const manifest = [{ Config: cfgName, RepoTags: ['example/app:1.0'], Layers: ['aaa/layer.tar', 'bbb/layer.tar'] }];
    writeFileSync(
      `${dir}/save.tar`,
      makeTar([{ path: 'manifest.json', content: JSON.stringify(manifest) }, { path: cfgName, content: cfg }, { path: 'aaa', type: 'dir' }, { path: 'aaa/layer.tar', content: l1 }, { path: 'bbb', type: 'dir' }, { path: 'bbb/layer.tar', content: l2 }].map(own)),
    );
    const ctx = ctxFor(dir, 'd1', ['--image', `${dir}/save.tar`, '--tag', '1.0']);
    const r = await TEMPLATES.oci!.create(ctx);
    assert.deepEqual(r.config.find(([k]) => k === 'lxc.execute.cmd'), ['lxc.execute.cmd', '/bin/tool']);
    assert.deepEqual(r.config.filter(([k]) => k === 'lxc.environment'), [['lxc.environment', 'A=1']]);
    assert.deepEqual(readdirSync(`${ctx.rootfs}/opt/d`), ['z']);
    assert.deepEqual(readdirSync(`${dir}/cache/oci`), [], 'the unpack directory is removed');
    await assert.rejects(TEMPLATES.oci!.create(ctxFor(`${dir}/b`, 'd2', ['--image', `${dir}/save.tar`, '--tag', '2.0'])), /no image tagged "2.0" .*example\/app:1.0/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('docker save manifest.json: choosing by tag, bad input', T, () => {
  const m = JSON.stringify([
    { Config: 'a.json', RepoTags: ['busybox:latest'], Layers: ['1/layer.tar'] },
    { Config: 'b.json', RepoTags: ['alpine:3.19', 'alpine:latest'], Layers: ['2/layer.tar', '3/layer.tar'] },
  ]);
  assert.equal(parseDockerManifest(m, 'busybox').Config, 'a.json');
  assert.equal(parseDockerManifest(m, 'alpine:3.19').Config, 'b.json');
  assert.equal(parseDockerManifest(m, '3.19').Config, 'b.json');
  assert.throws(() => parseDockerManifest(m), /holds 2 images: choose one with --tag/);
  assert.throws(() => parseDockerManifest(m, 'debian'), /no image tagged "debian"/);
  assert.throws(() => parseDockerManifest('{}'), /not a non-empty list/);
  assert.throws(() => parseDockerManifest('[{"Config":"../x.json","Layers":[]}]'), /outside the archive/);
  assert.throws(() => parseDockerManifest('not json'), /not valid JSON/);
  assert.ok(tagMatches('docker.io/library/busybox:latest', 'busybox'));
  assert.ok(!tagMatches('busybox:1.36', 'busybox'));
});

test('command quoting round-trips through the config reader\'s splitting', T, () => {
  const cases = [['/bin/sh'], ['/bin/sh', '-c', 'echo "hi" && exit 3'], ['a b', "it's", 'both \'and\' "x"', ''], ['tab\there', "'", '"']];
  for (const args of cases) assert.deepEqual(splitCommand(quoteCommand(args)), args, JSON.stringify(args));
  assert.equal(quoteCommand(['/bin/echo', 'plain']), '/bin/echo plain');
  assert.throws(() => quoteCommand(['a\nb']), /newline/);
  const lines = ociConfigLines('n', { Cmd: ['sh', '-c', 'x=1; echo "$x"'], Env: ['EMPTY=', 'SPACES=a b  c'] });
  assert.deepEqual(lines, [
    ['lxc.uts.name', 'n'],
    ['lxc.execute.cmd', `sh -c 'x=1; echo "$x"'`],
    ['lxc.init.cmd', `sh -c 'x=1; echo "$x"'`],
    ['lxc.environment', 'EMPTY='],
    ['lxc.environment', 'SPACES=a b  c'],
    ['lxc.signal.halt', 'SIGTERM'],
  ]);
  assert.throws(() => ociConfigLines('n', {}), /neither Entrypoint nor Cmd/);
  assert.throws(() => ociConfigLines('n', { Cmd: ['x'], Env: ['A=1\n'] }), /newline/);
  assert.deepEqual(ociConfigLines('n', { Entrypoint: ['/e'], Cmd: ['default'] }, { command: ['other', 'arg'] })[1], ['lxc.execute.cmd', '/e other arg']);
});

test('image users: names and numbers from the image\'s passwd and group', T, () => {
  const dir = tmp();
  try {
    mkdirSync(`${dir}/etc`);
    writeFileSync(`${dir}/etc/passwd`, 'root:x:0:0::/root:/bin/sh\nweb:x:33:44::/var/www:/bin/false\n');
    writeFileSync(`${dir}/etc/group`, 'root:x:0:\nwww:x:44:\nstaff:x:50:\n');
    assert.deepEqual(resolveUser(dir, 'web'), { uid: 33, gid: 44 });
    assert.deepEqual(resolveUser(dir, '33'), { uid: 33, gid: 44 });
    assert.deepEqual(resolveUser(dir, '1234'), { uid: 1234, gid: 0 });
    assert.deepEqual(resolveUser(dir, 'web:staff'), { uid: 33, gid: 50 });
    assert.deepEqual(resolveUser(dir, '5:6'), { uid: 5, gid: 6 });
    assert.throws(() => resolveUser(dir, 'nobody'), /"nobody" is not in its \/etc\/passwd/);
    assert.throws(() => resolveUser(dir, 'web:nogroup'), /group "nogroup"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resolveIn never leaves the root', T, () => {
  const dir = tmp();
  try {
    mkdirSync(`${dir}/r/etc`, { recursive: true });
    symlinkSync('/etc', `${dir}/r/abs`);
    symlinkSync('../../../../..', `${dir}/r/up`);
    assert.equal(resolveIn(`${dir}/r`, '/abs/passwd'), `${dir}/r/etc/passwd`);
    assert.equal(resolveIn(`${dir}/r`, 'up/etc/passwd'), `${dir}/r/etc/passwd`);
    assert.equal(resolveIn(`${dir}/r`, '../../x'), `${dir}/r/x`);
    assert.equal(resolveIn(`${dir}/r`, '/abs', false), `${dir}/r/abs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('registry: names, help, argument errors', T, async () => {
  assert.deepEqual(Object.keys(TEMPLATES).sort(), ['busybox', 'debian', 'host', 'local', 'oci']);
  for (const t of Object.values(TEMPLATES)) {
    assert.ok(t.summary.length > 10, t.name);
    assert.match(t.help, new RegExp(`lxts create -t ${t.name}`));
  }
  assert.throws(() => getTemplate('ubuntu'), (e: unknown) => e instanceof LxtsError && e.code === ExitCode.USAGE && /unknown template "ubuntu"/.test(e.message));
  assert.throws(() => getTemplate('__proto__'), /unknown template/);
  assert.throws(() => parseTemplateArgs('oci', ['--imag', 'x'], { image: { type: 'string' } }), (e: unknown) => e instanceof LxtsError && e.code === ExitCode.USAGE && /^template oci: Unknown option '--imag'/.test(e.message));
  assert.throws(() => parseTemplateArgs('oci', ['stray'], {}), /unexpected argument "stray"/);
  assert.ok(wantsHelp(['--image', 'x', '--help']));
  assert.ok(!wantsHelp(['--command', 'x']));
  const dir = tmp();
  try {
    const r: TemplateResult = await TEMPLATES.host!.create(ctxFor(dir, 'h1', []));
    assert.equal(r.kind, 'application');
    assert.deepEqual(r.config[0], ['lxc.uts.name', 'h1']);
    assert.ok(r.config.some(([k, v]) => k === 'lxc.mount.entry' && v === '/usr usr none ro,rbind,create=dir 0 0'));
    assert.equal(readFileSync(`${dir}/ct/rootfs/etc/hostname`, 'utf8'), 'h1\n');
    assert.match(readFileSync(`${dir}/ct/rootfs/etc/hosts`, 'utf8'), /127\.0\.1\.1\th1/);
    await assert.rejects(TEMPLATES.host!.create(ctxFor(`${dir}/2`, 'h2', ['--bogus'])), /template host: Unknown option '--bogus'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('debootstrap progress: phases, package counts, a fraction that only grows', T, () => {
  const p = new DebootstrapProgress(3);
  const lines = [
    'I: Target architecture can be executed',
    'I: Retrieving InRelease ',
    'I: Checking Release signature',
    'I: Retrieving Packages ',
    'I: Validating Packages ',
    'I: Resolving dependencies of required packages...',
    'I: Checking component main on http://deb.debian.org/debian...',
    'I: Retrieving adduser 3.134',
    'I: Validating adduser 3.134',
    'I: Retrieving apt 2.6.1',
    'I: Retrieving base-files 12.4+deb12u15',
    'I: Retrieving bash 5.2.15-2+b8',
    'W: something odd',
    'I: Chosen extractor for .deb packages: dpkg-deb',
    'I: Extracting adduser...',
    'I: Extracting apt...',
    'I: Installing core packages...',
    'I: Unpacking required packages...',
    'I: Unpacking adduser...',
    'I: Configuring required packages...',
    'I: Configuring adduser...',
    'I: Configuring apt...',
    'I: Base system installed successfully.',
    'some dpkg chatter',
  ];
  const out = lines.map((l) => p.line(l));
  assert.equal(out[4], undefined, 'Validating lines are not repeated');
  assert.equal(out[8], undefined);
  assert.equal(out[23], undefined, 'non-debootstrap lines are ignored');
  assert.deepEqual(out[7], { message: 'retrieving adduser (1/~3)', fraction: out[7]!.fraction, level: 'info' });
  assert.equal(out[11]!.message, 'retrieving bash (4/~4)', 'the estimate grows with what is seen');
  assert.equal(out[12]!.level, 'warning');
  assert.equal(out[12]!.message, 'warning: something odd');
  assert.equal(out[14]!.message, 'extracting adduser (1/4)', 'after retrieving, the package count is known');
  assert.equal(out[20]!.message, 'configuring adduser (1/4)');
  assert.equal(out[22]!.message, 'Base system installed successfully.');
  const fr = out.filter((x) => x).map((x) => x!.fraction);
  for (let i = 1; i < fr.length; i++) assert.ok(fr[i]! >= fr[i - 1]!, `fraction grows at ${i}: ${fr[i - 1]} -> ${fr[i]}`);
  assert.ok(fr[fr.length - 1]! > 0.9 && fr[fr.length - 1]! <= 1);
  assert.equal(new DebootstrapProgress().line('E: Couldn\'t download packages: foo')!.level, 'error');
});

test('debian: arguments, defaults, cache keys', T, () => {
  const o = parseDebianArgs([], () => 'amd64');
  assert.deepEqual(o, { mirror: 'http://deb.debian.org/debian', release: 'bookworm', arch: 'amd64', include: [], flushCache: false });
  const o2 = parseDebianArgs(['--release', 'trixie', '--include', 'curl,vim', '--include', 'less curl', '--flush-cache', '--arch', 'arm64'], () => 'amd64');
  assert.deepEqual([o2.release, o2.arch, o2.include, o2.flushCache], ['trixie', 'arm64', ['curl', 'less', 'vim'], true]);
  assert.equal(cacheKey(o), 'bookworm-amd64');
  assert.match(cacheKey(o2), /^trixie-arm64-[0-9a-f]{12}$/);
  assert.equal(cacheKey({ ...o2, include: ['vim', 'less', 'curl'].sort() }), cacheKey(o2), 'order of --include does not matter');
  assert.throws(() => parseDebianArgs(['--release', '../x']), /bad --release/);
  assert.throws(() => parseDebianArgs(['--include', 'ok,Bad;rm']), /bad package name/);
  assert.throws(() => parseDebianArgs(['--mirror', 'ftp://x y']), /--mirror must be/);
  assert.match(SYSVINIT_INITTAB, /^co:2345:respawn:\/sbin\/getty --noclear 38400 console$/m);
  assert.match(SYSVINIT_INITTAB, /^p0::powerfail:\/sbin\/init 0$/m);
  assert.ok(!/getty.*tty\d/.test(SYSVINIT_INITTAB), "no gettys on ttys a container does not have");
});

test('debian: the rc scripts that would touch the host are switched off', T, () => {
  const dir = tmp();
  try {
    for (const [d, files] of [['rcS.d', ['S01hwclock.sh', 'S03checkroot.sh', 'S06mountall.sh']], ['rc0.d', ['K03umountfs', 'K04umountroot', 'K05halt']]] as const) {
      mkdirSync(`${dir}/etc/${d}`, { recursive: true });
      for (const f of files) symlinkSync(`../init.d/${f.slice(3)}`, `${dir}/etc/${d}/${f}`);
    }
    configureDebianRootfs(dir, 'deb1');
    assert.deepEqual(readdirSync(`${dir}/etc/rcS.d`), ['S06mountall.sh']);
    assert.deepEqual(readdirSync(`${dir}/etc/rc0.d`), ['K05halt']);
    assert.equal(readFileSync(`${dir}/etc/hostname`, 'utf8'), 'deb1\n');
    assert.equal(readFileSync(`${dir}/etc/inittab`, 'utf8'), SYSVINIT_INITTAB);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
