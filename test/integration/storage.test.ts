// Storage end to end through the real CLI: overlay snapshot copies (mounted only inside the
// container: the host's mount table never changes), ephemeral copies, full copies that keep
// owners/modes/xattrs/hard links/special files, snapshots, and `execute -n`. Each test uses
// its own lxtspath and run dir and leaves the machine as it found it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync, readdirSync, statSync, mkdirSync, chownSync, chmodSync, linkSync } from 'node:fs';
import { lxts as run, machineState, tempDir, isRoot, withLxtsEnv, createBusybox, type RunResult, type LxtsEnv as Env } from './helpers/lxts.js';

const skip = isRoot ? false : 'needs root';
const T = { timeout: 120000, skip };

const withEnv = (fn: (env: Env) => Promise<void>): Promise<void> => withLxtsEnv('lxts-stor', fn);

async function ok(env: Env, args: string[]): Promise<RunResult> {
  const r = await env.lxts(args);
  assert.equal(r.code, 0, `lxts ${args.join(' ')}: ${r.stderr}`);
  return r;
}

const mounts = (): string[] => machineState().mounts;

test('snapshot copy: an overlay over the origin, mounted only in the container; writes stay in the copy', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'base');
    writeFileSync(`${env.path}/base/rootfs/etc/motd`, 'from base\n');

    // A running origin is refused, with a clear message.
    await ok(env, ['start', 'base']);
    const refused = await env.lxts(['copy', 'base', '-n', 'snap1', '--snapshot']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /container "base" is running: an overlay snapshot copy needs a stopped origin/);
    assert.match(refused.stderr, /stop it first/);
    assert.ok(!existsSync(`${env.path}/snap1`), 'nothing left by the refused copy');
    await ok(env, ['stop', '-k', 'base']);

    await ok(env, ['copy', 'base', '-n', 'snap1', '--snapshot']);
    const cfg = readFileSync(`${env.path}/snap1/config`, 'utf8');
    assert.match(cfg, new RegExp(`^lxc\\.rootfs\\.path = overlay:${env.path}/base/rootfs:${env.path}/snap1/overlay/delta$`, 'm'));
    assert.match(cfg, /^lxc\.uts\.name = snap1$/m);
    assert.match(cfg, /^# Container base, created by lxts/m, 'comments kept');

    const hostMounts = mounts();
    await ok(env, ['start', 'snap1']);
    assert.deepEqual(mounts(), hostMounts, 'the host mount table is unchanged while the overlay container runs');
    const rootLine = (await ok(env, ['attach', 'snap1', '--', '/bin/sh', '-c', 'grep " / " /proc/mounts'])).stdout;
    assert.match(rootLine, /^overlay \/ overlay .*lowerdir=.*\/base\/rootfs,upperdir=.*\/snap1\/overlay\/delta,workdir=.*\/snap1\/overlay\/work/m);
    assert.equal((await ok(env, ['attach', 'snap1', '--', '/bin/cat', '/etc/motd'])).stdout, 'from base\n', 'the origin\'s files show through');
    await ok(env, ['attach', 'snap1', '--', '/bin/sh', '-c', 'echo only in the copy > /root/new && rm /etc/motd']);
    assert.equal((await env.lxts(['attach', 'snap1', '--', '/bin/cat', '/etc/motd'])).code, 1, 'deleted in the copy');
    await ok(env, ['stop', 'snap1', '--timeout', '5']);
    assert.deepEqual(mounts(), hostMounts, 'and after it stopped');

    assert.ok(!existsSync(`${env.path}/base/rootfs/root/new`), 'a file written in the snapshot copy does not appear in the origin');
    assert.equal(readFileSync(`${env.path}/base/rootfs/etc/motd`, 'utf8'), 'from base\n', 'a file deleted in the copy stays in the origin');
    assert.equal(readFileSync(`${env.path}/snap1/overlay/delta/root/new`, 'utf8'), 'only in the copy\n');

    // The origin cannot go while the copy depends on it.
    const d = await env.lxts(['destroy', 'base']);
    assert.equal(d.code, 1);
    assert.match(d.stderr, /cannot destroy "base": its rootfs is the lower layer of the snapshot copy snap1/);
    assert.ok(existsSync(`${env.path}/base/rootfs/bin/busybox`));

    // A full copy of the overlay copy is flattened: a plain directory with the merged view.
    await ok(env, ['copy', 'snap1', '-n', 'flat']);
    assert.match(readFileSync(`${env.path}/flat/config`, 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = dir:${env.path}/flat/rootfs$`, 'm'));
    assert.equal(readFileSync(`${env.path}/flat/rootfs/root/new`, 'utf8'), 'only in the copy\n');
    assert.ok(!existsSync(`${env.path}/flat/rootfs/etc/motd`), 'the whiteout applied');
    assert.ok(existsSync(`${env.path}/flat/rootfs/bin/busybox`));
    assert.ok(!existsSync(`${env.path}/flat/lxts_rdepends`), 'independent of base');

    await ok(env, ['destroy', 'snap1']);
    assert.ok(!existsSync(`${env.path}/snap1`));
    await ok(env, ['destroy', 'base']);
  }));

test('ephemeral copy: started at once, gone after it stops', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'base');
    const hostMounts = mounts();
    const r = await ok(env, ['copy', 'base', '-n', 'eph', '--ephemeral']);
    assert.match(r.stderr, /started ephemeral copy eph of base/);
    assert.match(readFileSync(`${env.path}/eph/config`, 'utf8'), /^lxc\.ephemeral = 1$/m);
    const ls = JSON.parse((await ok(env, ['ls', '--json'])).stdout) as { name: string; state: string }[];
    assert.equal(ls.find((c) => c.name === 'eph')?.state, 'RUNNING');
    assert.deepEqual(mounts(), hostMounts);
    assert.match(readFileSync(`${env.path}/base/lxts_snapshots`, 'utf8'), /\neph\n/);

    await ok(env, ['stop', 'eph', '--timeout', '5']);
    assert.ok(!existsSync(`${env.path}/eph`), 'the ephemeral copy is gone after stop');
    const after = JSON.parse((await ok(env, ['ls', '--json'])).stdout) as { name: string }[];
    assert.deepEqual(after.map((c) => c.name), ['base']);
    assert.ok(!existsSync(`${env.path}/base/lxts_snapshots`), 'and no longer listed as depending on base');
    assert.deepEqual(mounts(), hostMounts);

    // Without a name, one is made up and printed; a container that exits on its own goes too.
    writeFileSync(`${env.path}/base/config`, readFileSync(`${env.path}/base/config`, 'utf8') + 'lxc.init.cmd = /bin/sleep 1\n');
    const anon = await ok(env, ['copy', 'base', '-e']);
    const name = anon.stdout.trim();
    assert.match(name, /^base-[0-9a-f]{6}$/);
    const deadline = Date.now() + 15000;
    while (existsSync(`${env.path}/${name}`) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    assert.ok(!existsSync(`${env.path}/${name}`), 'an ephemeral container whose init exits is destroyed by its post-stop');
  }));

test('full copy keeps owners, modes, xattrs, hard links and special files; a failed copy leaves nothing', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'src');
    const r = `${env.path}/src/rootfs`;
    mkdirSync(`${r}/data`);
    writeFileSync(`${r}/data/owned`, 'x');
    chownSync(`${r}/data/owned`, 1234, 5678);
    chmodSync(`${r}/data/owned`, 0o4751);
    linkSync(`${r}/data/owned`, `${r}/data/hardlink`);
    assert.equal(spawnSync('mkfifo', [`${r}/data/fifo`]).status, 0);
    assert.equal(spawnSync('mknod', [`${r}/data/null`, 'c', '1', '3']).status, 0);
    const xattr = spawnSync('python3', ['-c', `import os; os.setxattr("${r}/data/owned", "user.lxts", b"kept")`]);
    const haveXattr = xattr.status === 0;

    await ok(env, ['copy', 'src', '-n', 'dst']);
    const d = `${env.path}/dst/rootfs`;
    const st = statSync(`${d}/data/owned`);
    assert.equal(st.uid, 1234);
    assert.equal(st.gid, 5678);
    assert.equal(st.mode & 0o7777, 0o4751);
    assert.equal(statSync(`${d}/data/hardlink`).ino, st.ino, 'hard links stay links');
    assert.equal(st.nlink, 2);
    assert.ok(statSync(`${d}/data/fifo`).isFIFO());
    const dev = statSync(`${d}/data/null`);
    assert.ok(dev.isCharacterDevice() && dev.rdev === statSync('/dev/null').rdev);
    if (haveXattr) {
      const got = spawnSync('python3', ['-c', `import os; print(os.getxattr("${d}/data/owned", "user.lxts").decode())`], { encoding: 'utf8' });
      assert.equal(got.stdout.trim(), 'kept');
    }
    assert.ok(statSync(`${d}/bin/busybox`).isFile());
    const cfg = readFileSync(`${env.path}/dst/config`, 'utf8');
    assert.match(cfg, /^lxc\.uts\.name = dst$/m);
    assert.match(cfg, new RegExp(`^lxc\\.rootfs\\.path = dir:${env.path}/dst/rootfs$`, 'm'));
    const started = await env.lxts(['start', 'dst']);
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await ok(env, ['attach', 'dst', '--', '/bin/hostname'])).stdout.trim(), 'dst');
    await ok(env, ['stop', '-k', 'dst']);

    // A copy that fails half-way (its origin's rootfs is gone) leaves nothing behind.
    mkdirSync(`${env.path}/broken`);
    writeFileSync(`${env.path}/broken/config`, `lxc.rootfs.path = dir:${env.path}/broken/missing\n`);
    const bad = await env.lxts(['copy', 'broken', '-n', 'half']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /missing: it does not exist/);
    assert.ok(!existsSync(`${env.path}/half`));
  }));

test('snapshots: create, list, restore in place and as a new container, destroy', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'c1');
    const f = `${env.path}/c1/rootfs/etc/version`;
    writeFileSync(f, 'v1\n');
    assert.equal((await ok(env, ['snapshot', 'c1', '-c', 'first'])).stdout.trim(), 'snap0');
    writeFileSync(f, 'v2\n');
    assert.equal((await ok(env, ['snapshot', 'c1'])).stdout.trim(), 'snap1');
    writeFileSync(f, 'v3\n');

    const list = JSON.parse((await ok(env, ['snapshot', 'c1', '-L', '--json'])).stdout) as { name: string; comment: string | null; timestamp: string; kind: string; path: string }[];
    assert.deepEqual(list.map((s) => [s.name, s.comment, s.kind]), [['snap0', 'first', 'dir'], ['snap1', null, 'dir']]);
    assert.ok(!Number.isNaN(Date.parse(list[0]!.timestamp)));
    assert.equal(list[0]!.path, `${env.path}/c1/snaps/snap0`);
    assert.match((await ok(env, ['snapshot', 'c1', '-L'])).stdout, /^snap0\s+\S+\s+dir\s+first$/m);

    await ok(env, ['snapshot', 'c1', '-r', 'snap0']);
    assert.equal(readFileSync(f, 'utf8'), 'v1\n', 'restored in place');
    assert.match(readFileSync(`${env.path}/c1/config`, 'utf8'), new RegExp(`^lxc\\.rootfs\\.path = dir:${env.path}/c1/rootfs$`, 'm'));
    assert.match(readFileSync(`${env.path}/c1/config`, 'utf8'), /^lxc\.uts\.name = c1$/m);
    assert.deepEqual(readdirSync(`${env.path}/c1`).filter((n) => n.startsWith('.')), [], 'no temporary dirs left');

    await ok(env, ['snapshot', 'c1', '-r', 'snap1', '-N', 'c2']);
    assert.equal(readFileSync(`${env.path}/c2/rootfs/etc/version`, 'utf8'), 'v2\n');
    assert.match(readFileSync(`${env.path}/c2/config`, 'utf8'), /^lxc\.uts\.name = c2$/m);
    await ok(env, ['start', 'c2']);
    assert.equal((await ok(env, ['attach', 'c2', '--', '/bin/cat', '/etc/version'])).stdout, 'v2\n');

    // A running container is refused: a snapshot of a live rootfs would not be consistent.
    await ok(env, ['start', 'c1']);
    const running = await env.lxts(['snapshot', 'c1']);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /container "c1" is running: a snapshot of a running container would not be consistent/);
    const restoreRunning = await env.lxts(['snapshot', 'c1', '-r', 'snap0']);
    assert.equal(restoreRunning.code, 1);
    assert.match(restoreRunning.stderr, /is running/);
    await ok(env, ['stop', '-k', 'c1']);

    // Unknown and invalid snapshot names.
    const unknown = await env.lxts(['snapshot', 'c1', '-d', 'snap9']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /container "c1" has no snapshot "snap9"/);
    assert.match(unknown.stderr, /its snapshots: snap0, snap1/);
    assert.equal((await env.lxts(['snapshot', 'c1', '-r', 'snap9'])).code, 1);
    const invalid = await env.lxts(['snapshot', 'c1', '-d', '../c2']);
    assert.equal(invalid.code, 2);
    assert.ok(existsSync(`${env.path}/c2/config`));

    await ok(env, ['snapshot', 'c1', '-d', 'snap0']);
    assert.deepEqual((JSON.parse((await ok(env, ['snapshot', 'c1', '-L', '--json'])).stdout) as { name: string }[]).map((s) => s.name), ['snap1']);
    assert.equal((await ok(env, ['snapshot', 'c1'])).stdout.trim(), 'snap2', 'numbers are not reused');
  }));

test('snapshots of an overlay container copy its writable layer over the same lower', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'base');
    await ok(env, ['copy', 'base', '-n', 'ov', '-s']);
    writeFileSync(`${env.path}/ov/overlay/delta/state`, 'one\n');
    await ok(env, ['snapshot', 'ov']);
    writeFileSync(`${env.path}/ov/overlay/delta/state`, 'two\n');
    const snapCfg = readFileSync(`${env.path}/ov/snaps/snap0/config`, 'utf8');
    assert.match(snapCfg, new RegExp(`^lxc\\.rootfs\\.path = overlay:${env.path}/base/rootfs:${env.path}/ov/snaps/snap0/overlay/delta$`, 'm'));
    await ok(env, ['snapshot', 'ov', '-r', 'snap0']);
    assert.equal(readFileSync(`${env.path}/ov/overlay/delta/state`, 'utf8'), 'one\n');
    await ok(env, ['start', 'ov']);
    assert.equal((await ok(env, ['attach', 'ov', '--', '/bin/cat', '/state'])).stdout, 'one\n');
    await ok(env, ['stop', '-k', 'ov']);
    // base is still needed by ov (and its snapshot)
    assert.equal((await env.lxts(['destroy', 'base'])).code, 1);
    await ok(env, ['destroy', 'ov']);
    await ok(env, ['destroy', 'base']);
  }));

test('execute -n NAME runs a command in a stopped container\'s config, under the minimal init', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'ex');
    writeFileSync(`${env.path}/ex/rootfs/etc/marker`, 'inside ex\n');
    const r = await ok(env, ['execute', '-n', 'ex', '--', '/bin/sh', '-c', 'cat /etc/marker; hostname; echo pid=$$; ls /bin/busybox']);
    assert.equal(r.stdout, 'inside ex\nex\npid=2\n/bin/busybox\n');
    assert.equal((await env.lxts(['execute', '-n', 'ex', '--', '/bin/sh', '-c', 'exit 7'])).code, 7);

    // In an overlay copy: its own rootfs view, host mounts untouched.
    await ok(env, ['copy', 'ex', '-n', 'exs', '-s']);
    const hostMounts = mounts();
    await ok(env, ['execute', '-n', 'exs', '--', '/bin/sh', '-c', 'echo written > /etc/marker']);
    assert.deepEqual(mounts(), hostMounts);
    assert.equal(readFileSync(`${env.path}/exs/overlay/delta/etc/marker`, 'utf8'), 'written\n');
    assert.equal(readFileSync(`${env.path}/ex/rootfs/etc/marker`, 'utf8'), 'inside ex\n');

    // Bad input.
    const running = await (async () => {
      await ok(env, ['start', 'ex']);
      try {
        return await env.lxts(['execute', '-n', 'ex', '--', '/bin/true']);
      } finally {
        await ok(env, ['stop', '-k', 'ex']);
      }
    })();
    assert.equal(running.code, 1);
    assert.match(running.stderr, /container "ex" is running/);
    const none = await env.lxts(['execute', '-n', 'nosuch', '--', '/bin/true']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no container named "nosuch"/);
    const mixed = await env.lxts(['execute', '-n', 'ex', '--rootfs', '/', '--', '/bin/true']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /--rootfs cannot be combined with -n NAME/);
  }));

test('copy: bad input gets a clear error and changes nothing', T, () =>
  withEnv(async (env) => {
    await createBusybox(env, 'a');
    await createBusybox(env, 'b');
    const exists = await env.lxts(['copy', 'a', '-n', 'b']);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /container "b" already exists/);
    for (const bad of ['../x', '.hidden', 'a/b', '']) {
      const r = await env.lxts(['copy', 'a', '-n', bad]);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
    }
    assert.equal((await env.lxts(['copy', '../a', '-n', 'c'])).code, 2);
    const missing = await env.lxts(['copy', 'nosuch', '-n', 'c']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no container named "nosuch"/);
    const noName = await env.lxts(['copy', 'a']);
    assert.equal(noName.code, 2);
    assert.match(noName.stderr, /no name for the copy/);
    assert.equal((await env.lxts(['copy', 'a', '-n', 'a'])).code, 2);
    // LXC's spelling works too.
    await ok(env, ['copy', '-n', 'a', '-N', 'c']);
    assert.deepEqual(readdirSync(env.path).sort(), ['a', 'b', 'c']);
    // A copy into another lxtspath.
    const other = tempDir('lxts-stor2-');
    try {
      await ok(env, ['copy', 'a', '-n', 'far', '-s', '-p', other.path]);
      assert.match(readFileSync(`${other.path}/far/config`, 'utf8'), new RegExp(`overlay:${env.path}/a/rootfs:${other.path}/far/overlay/delta`));
      const d = await env.lxts(['destroy', 'a']);
      assert.match(d.stderr, new RegExp(`snapshot copy far \\(in ${other.path}\\)`));
      const r = await run(['destroy', '-P', other.path, 'far'], { env: { ...process.env, LXTS_RUNDIR: env.rundir } });
      assert.equal(r.code, 0, r.stderr);
    } finally {
      other.remove();
    }
  }));
