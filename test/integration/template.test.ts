// Templates on the real machine (root): busybox, local from a tarball of a busybox rootfs,
// oci from an OCI layout built from busybox (two layers, one whiteout), and debian with a
// real debootstrap, booted with `lxts execute` and halted with SIGPWR. The debian test takes
// a minute or more the first time (the cache makes the next run fast); LXTS_SKIP_SLOW=1
// skips it, and it is reported as skipped.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync, readlinkSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { TEMPLATES, defaultCacheDir, type TemplateContext } from '../../src/template/index.js';
import { makeBusyboxRootfs, isStaticElf, BUSYBOX_CANDIDATES } from '../../src/template/busybox-rootfs.js';
import { makeTar } from '../../src/template/tar.js';
import { mountsBelow } from '../../src/template/debian.js';
import { splitCommand } from '../../src/template/util.js';
import { CLI } from './helpers/lxts.js';

const isRoot = process.getuid?.() === 0;
const hasBusybox = BUSYBOX_CANDIDATES.some((p) => existsSync(p) && isStaticElf(readFileSync(p)));
const skip = !isRoot ? 'needs root' : !hasBusybox ? 'needs busybox-static' : false;
const T = { timeout: 60000, skip };

function tmp(): string {
  return mkdtempSync(`${tmpdir()}/lxts-tpl-it-`);
}

/** Remove a temp dir, but never through a mount point. */
function cleanup(dir: string): void {
  const m = mountsBelow(dir);
  if (m.length) throw new Error(`not removing ${dir}: mounts below it: ${m.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

function ctxFor(dir: string, name: string, args: string[], log: string[] = [], cacheDir = `${dir}/cache`): TemplateContext {
  const containerDir = `${dir}/${name}`;
  mkdirSync(`${containerDir}/rootfs`, { recursive: true });
  return { name, containerDir, rootfs: `${containerDir}/rootfs`, args, cacheDir, onProgress: (m) => log.push(m) };
}

/** Run a command chrooted into a rootfs (no mounts needed for busybox). */
function inRoot(root: string, ...cmd: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('chroot', [root, ...cmd], { encoding: 'utf8', timeout: 10000, env: { PATH: '/bin:/sbin:/usr/bin:/usr/sbin' } });
}

test('busybox template: busybox init, a getty on the console, halt on SIGUSR1', T, async () => {
  const dir = tmp();
  try {
    const ctx = ctxFor(dir, 'bb', []);
    const r = await TEMPLATES.busybox!.create(ctx);
    assert.equal(r.kind, 'system');
    assert.deepEqual(r.config, [['lxc.uts.name', 'bb'], ['lxc.init.cmd', '/sbin/init'], ['lxc.signal.halt', 'SIGUSR1'], ['lxc.signal.reboot', 'SIGTERM']]);
    const R = ctx.rootfs;
    assert.ok(isStaticElf(readFileSync(`${R}/bin/busybox`)));
    assert.equal(readlinkSync(`${R}/sbin/init`), '/bin/busybox');
    assert.equal(inRoot(R, '/bin/busybox', 'readlink', '-f', '/sbin/init').stdout.trim(), '/bin/busybox');
    const inittab = readFileSync(`${R}/etc/inittab`, 'utf8');
    assert.match(inittab, /^console::respawn:\/sbin\/getty -L 38400 console$/m);
    assert.match(inittab, /^::sysinit:\/etc\/init\.d\/rcS$/m);
    assert.match(inittab, /^::shutdown:/m);
    assert.match(readFileSync(`${R}/etc/passwd`, 'utf8'), /^root::0:0:/);
    assert.equal(readFileSync(`${R}/etc/hostname`, 'utf8'), 'bb\n');
    // the boot script runs under busybox's sh
    assert.equal(inRoot(R, '/bin/sh', '-n', '/etc/init.d/rcS').status, 0);
    assert.equal(inRoot(R, '/sbin/getty', '--help').stderr.includes('getty'), true);
    // --shell and --root-password
    const ctx2 = ctxFor(dir, 'bb2', ['--shell', '--root-password', 's3cret']);
    await TEMPLATES.busybox!.create(ctx2);
    assert.match(readFileSync(`${ctx2.rootfs}/etc/inittab`, 'utf8'), /^console::respawn:-\/bin\/sh$/m);
    assert.match(readFileSync(`${ctx2.rootfs}/etc/passwd`, 'utf8'), /^root:\$6\$[^:]+:0:0:/);
  } finally {
    cleanup(dir);
  }
});

test('host template: a skeleton rootfs with the host\'s /usr as read-only bind entries', T, async () => {
  const dir = tmp();
  try {
    const ctx = ctxFor(dir, 'h', ['--command', '/usr/bin/env sleep 1']);
    const r = await TEMPLATES.host!.create(ctx);
    const get = (k: string) => r.config.filter(([key]) => key === k).map(([, v]) => v);
    assert.deepEqual(splitCommand(get('lxc.init.cmd')[0]!), ['/usr/bin/env', 'sleep', '1']);
    assert.deepEqual(get('lxc.signal.halt'), ['SIGTERM']);
    assert.ok(get('lxc.mount.entry').every((e) => / ro,r?bind/.test(e)));
    assert.deepEqual(readdirSync(`${ctx.rootfs}/usr`), [], 'nothing of the host is copied');
    for (const top of ['bin', 'lib', 'sbin']) {
      const host = spawnSync('readlink', [`/${top}`], { encoding: 'utf8' }).stdout.trim();
      if (host) assert.equal(readlinkSync(`${ctx.rootfs}/${top}`), host);
    }
  } finally {
    cleanup(dir);
  }
});

test('local template: from a tarball of a busybox rootfs', T, async () => {
  const dir = tmp();
  try {
    mkdirSync(`${dir}/src`);
    makeBusyboxRootfs(`${dir}/src`);
    writeFileSync(`${dir}/src/etc/owned`, 'x');
    spawnSync('chown', ['1234:5678', `${dir}/src/etc/owned`]);
    for (const [ext, flag] of [['tar.gz', '-z'], ['tar.xz', '-J'], ['tar.zst', '--zstd']] as const) {
      if (ext === 'tar.zst' && spawnSync('zstd', ['--version']).status !== 0) continue;
      const ball = `${dir}/rootfs.${ext}`;
      assert.equal(spawnSync('tar', ['--numeric-owner', flag, '-c', '-f', ball, '-C', `${dir}/src`, '.']).status, 0);
      const ctx = ctxFor(dir, `l-${ext.replace(/\./g, '')}`, ['--rootfs', ball]);
      const r = await TEMPLATES.local!.create(ctx);
      assert.deepEqual(r.config, [['lxc.uts.name', ctx.name], ['lxc.init.cmd', '/sbin/init']]);
      assert.equal(inRoot(ctx.rootfs, '/bin/sh', '-c', 'echo from-$(basename $0) ok').stdout.trim(), 'from-sh ok');
      const st = spawnSync('stat', ['-c', '%u:%g', `${ctx.rootfs}/etc/owned`], { encoding: 'utf8' }).stdout.trim();
      assert.equal(st, '1234:5678', `${ext}: numeric owners kept`);
      assert.deepEqual(readdirSync(`${ctx.rootfs}/bin`).sort(), readdirSync(`${dir}/src/bin`).sort());
    }
  } finally {
    cleanup(dir);
  }
});

test('oci template: a layout built from busybox, two layers, one whiteout', T, async () => {
  const dir = tmp();
  try {
    mkdirSync(`${dir}/src`);
    makeBusyboxRootfs(`${dir}/src`);
    const img = `${dir}/image`;
    mkdirSync(`${img}/blobs/sha256`, { recursive: true });
    const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
    const put = (b: Buffer) => {
      writeFileSync(`${img}/blobs/sha256/${sha(b).slice(7)}`, b);
      return { digest: sha(b), size: b.length };
    };
    // layer 1: the busybox rootfs (gzip, made by the host's tar); layer 2: a whiteout and a new file
    assert.equal(spawnSync('tar', ['--numeric-owner', '-c', '-f', `${dir}/l1.tar`, '-C', `${dir}/src`, '.']).status, 0);
    const l1 = readFileSync(`${dir}/l1.tar`);
    const l1gz = (await import('node:zlib')).gzipSync(l1);
    const l2 = makeTar([
      { path: 'bin', type: 'dir' },
      { path: 'bin/.wh.vi' },
      { path: 'etc', type: 'dir' },
      { path: 'etc/motd', content: 'layered\n' },
      { path: 'home', type: 'dir' },
      { path: 'home/app', type: 'dir', uid: 1000, gid: 1000 },
    ]);
    const cfg = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['cat /etc/motd; echo "$GREETING"'], Env: ['PATH=/bin:/sbin', 'GREETING=hello world'], WorkingDir: '/home/app' }, rootfs: { type: 'layers', diff_ids: [sha(l1), sha(l2)] } }));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...put(cfg) }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(l1gz) }, { mediaType: 'application/vnd.oci.image.layer.v1.tar', ...put(l2) }] }));
    writeFileSync(`${img}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(manifest), annotations: { 'org.opencontainers.image.ref.name': 'bb' } }] }));
    writeFileSync(`${img}/oci-layout`, '{"imageLayoutVersion":"1.0.0"}');
    assert.ok(existsSync(`${dir}/src/bin/vi`), 'busybox has vi, so the whiteout removes something');

    for (const [name, image] of [['o1', img], ['o2', `${dir}/image.tar`]] as const) {
      if (name === 'o2') assert.equal(spawnSync('tar', ['-c', '-f', `${dir}/image.tar`, '-C', img, '.']).status, 0);
      const ctx = ctxFor(dir, name, ['--image', image, '--tag', 'bb']);
      const r = await TEMPLATES.oci!.create(ctx);
      assert.equal(r.kind, 'application');
      const R = ctx.rootfs;
      assert.ok(!existsSync(`${R}/bin/vi`), 'whiteout applied');
      assert.ok(existsSync(`${R}/bin/sh`));
      assert.equal(readFileSync(`${R}/etc/motd`, 'utf8'), 'layered\n');
      const get = (k: string) => r.config.filter(([key]) => key === k).map(([, v]) => v);
      const argv = splitCommand(get('lxc.execute.cmd')[0]!);
      assert.deepEqual(argv, ['/bin/sh', '-c', 'cat /etc/motd; echo "$GREETING"']);
      assert.deepEqual(get('lxc.init.cwd'), ['/home/app']);
      // run the image's command the way the config says, chrooted
      const env = Object.fromEntries(get('lxc.environment').map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
      const out = spawnSync('chroot', [R, ...argv], { encoding: 'utf8', env, timeout: 10000 });
      assert.equal(out.stdout, 'layered\nhello world\n');
    }
  } finally {
    cleanup(dir);
  }
});

/** The PID of the container's init: the child of the lxts-exec that `lxts execute` (pid) started. */
function findInit(cliPid: number): number | undefined {
  const ppid = (p: string) => {
    try {
      return Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
    } catch {
      return -1;
    }
  };
  const procs = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  const exec = procs.find((p) => ppid(p) === cliPid);
  if (!exec) return undefined;
  const init = procs.find((p) => ppid(p) === Number(exec));
  return init ? Number(init) : undefined;
}

const slow = process.env.LXTS_SKIP_SLOW === '1' ? 'LXTS_SKIP_SLOW=1' : skip;

test('debian template: real debootstrap (cached), boots sysvinit, halts on SIGPWR within 30 s', { timeout: 900000, skip: slow }, async (t) => {
  const dir = tmp();
  const cacheDir = defaultCacheDir();
  let cli: ReturnType<typeof spawn> | undefined;
  try {
    const log: string[] = [];
    const t0 = Date.now();
    const ctx = ctxFor(dir, 'deb', [], log, cacheDir);
    const r = await TEMPLATES.debian!.create(ctx);
    const first = Date.now() - t0;
    assert.equal(r.kind, 'system');
    assert.deepEqual(r.config, [['lxc.uts.name', 'deb'], ['lxc.init.cmd', '/sbin/init'], ['lxc.signal.halt', 'SIGPWR'], ['lxc.signal.reboot', 'SIGINT']]);
    const R = ctx.rootfs;
    assert.match(readFileSync(`${R}/etc/debian_version`, 'utf8'), /^12\./);
    assert.match(readFileSync(`${R}/etc/inittab`, 'utf8'), /^co:2345:respawn:\/sbin\/getty --noclear 38400 console$/m);
    assert.ok(!readdirSync(`${R}/etc/rc0.d`).some((f) => /umountroot|umountfs/.test(f)), 'no remount of / read-only at shutdown');
    assert.match(spawnSync('chroot', [R, 'dpkg-query', '-W', '-f', '${Status}', 'sysvinit-core'], { encoding: 'utf8' }).stdout, /install ok installed/);
    assert.deepEqual(mountsBelow(dir), []);
    // the second create comes from the cache
    const t1 = Date.now();
    const log2: string[] = [];
    const ctx2 = ctxFor(dir, 'deb2', [], log2, cacheDir);
    await TEMPLATES.debian!.create(ctx2);
    const second = Date.now() - t1;
    assert.ok(log2.some((l) => /unpacking the cached Debian/.test(l)), log2.join('\n'));
    assert.ok(second < 60000, `cached create took ${second} ms`);
    t.diagnostic(`debian create: ${first} ms (${log.some((l) => /^debootstrap /.test(l)) ? 'debootstrap' : 'cache'}), then ${second} ms from the cache`);
    console.log(`# debian create: ${first} ms, cached: ${second} ms`);

    // boot it: lxts execute runs /sbin/init as PID 1 in the rootfs
    cli = spawn(process.execPath, [CLI, 'execute', '-T', '--rootfs', ctx2.rootfs, '-n', 'lxts-tpl-deb', '--', '/sbin/init'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stderr = '';
    cli.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((res) => cli!.on('close', (code) => res(code)));
    let init: number | undefined;
    const deadline = Date.now() + 20000;
    while (!init && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 200));
      init = findInit(cli.pid!);
    }
    assert.ok(init, `init did not start: ${stderr}`);
    // booted: runlevel 2 reached (the console getty runs), and it is Debian in there
    let getty = false;
    while (!getty && Date.now() < deadline + 20000) {
      await new Promise((res) => setTimeout(res, 250));
      getty = readdirSync('/proc').some((p) => /^\d+$/.test(p) && (() => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('/sbin/getty') && readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(init); } catch { return false; } })());
    }
    assert.ok(getty, 'the console getty started (runlevel 2)');
    assert.match(readFileSync(`/proc/${init}/cmdline`, 'utf8'), /^init/);
    assert.match(readFileSync(`/proc/${init}/root/etc/debian_version`, 'utf8'), /^12\./);
    const stopAt = Date.now();
    process.kill(init!, 'SIGPWR');
    const code = await Promise.race([exited, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), 30000))]);
    assert.notEqual(code, 'timeout', 'sysvinit halted within 30 s of SIGPWR');
    console.log(`# debian halted ${Date.now() - stopAt} ms after SIGPWR (lxts execute exit ${code})`);
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === '/')!, /\srw[\s,]/, 'the host\'s / is still read-write');
  } finally {
    if (cli?.pid && cli.exitCode === null) {
      try {
        process.kill(-cli.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    cleanup(dir);
  }
});
