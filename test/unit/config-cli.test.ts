// lxts config validate|show|get|set|unset|keys, run as a user runs them (no root needed).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/lxts.js', import.meta.url));
const FIX = fileURLToPath(new URL('../../../test/unit/fixtures/lxc/', import.meta.url));

function lxts(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: FIX, encoding: 'utf8', env: { ...process.env, LXTS_DEBUG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('config validate: valid files exit 0 and name what is stored for later', { timeout: 30000 }, () => {
  const r = lxts('config', 'validate', 'debian/config', 'app/config', 'overlay/config');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^debian\/config: valid \(36 keys; stored for later, not applied yet: .*lxc\.signal\.\*.*\)$/m);
  assert.match(r.out, /^app\/config: valid \(\d+ keys; 1 warning; .*lxc\.seccomp\.\*/m);
  assert.equal(r.err, 'app/config:92: warning: lxc.apparmor.profile: not supported by lxts (AppArmor profile; lxts does not load AppArmor profiles); ignored\n');
});

test('config validate: errors one per line as file:line: key: message, exit 3', { timeout: 30000 }, () => {
  const r = lxts('config', 'validate', 'broken/values.conf', 'cycle/a.conf', 'debian/config');
  assert.equal(r.code, 3);
  const lines = r.err.trim().split('\n');
  assert.ok(lines.includes('broken/values.conf:2: lxc.tty.max: expected a whole number, got "four"'), r.err);
  assert.ok(lines.includes('broken/values.conf:6: lxc.net.x.type: bad index "x": network keys are lxc.net.N.KEY with N = 0, 1, 2, ...'), r.err);
  assert.ok(lines.includes('broken/values.conf:17: warning: lxc.utsname: unknown key (renamed lxc.uts.name in LXC 3.0); ignored'), r.err);
  assert.ok(lines.includes('cycle/b.conf:2: lxc.include: include cycle: cycle/a.conf -> cycle/b.conf -> cycle/a.conf'), r.err);
  assert.ok(lines.includes('broken/values.conf: 20 errors'));
  for (const l of lines.filter((x) => !/: \d+ errors?$/.test(x))) assert.match(l, /^[\w/.-]+:\d+: /, l);
  assert.match(r.out, /^debian\/config: valid/m, 'the valid file is still reported');
});

test('config validate --json lists errors and warnings per file', { timeout: 30000 }, () => {
  const r = lxts('config', 'validate', '--json', 'broken/caps.conf', 'app/config', 'nope.conf');
  assert.equal(r.code, 3);
  const j = JSON.parse(r.out);
  assert.equal(j.valid, false);
  assert.deepEqual(j.files.map((f: { file: string; valid: boolean }) => [f.file, f.valid]), [['broken/caps.conf', false], ['app/config', true], ['nope.conf', false]]);
  assert.deepEqual(j.files[0].errors[0], { file: 'broken/caps.conf', line: 2, key: 'lxc.cap.keep', message: 'cannot be combined with lxc.cap.drop (broken/caps.conf:1): use one of them' });
  assert.equal(j.files[1].warnings[0].key, 'lxc.apparmor.profile');
  assert.ok(j.files[1].stored.some((s: { key: string }) => s.key === 'lxc.seccomp.profile'));
  assert.ok(!j.files[1].stored.some((s: { key: string }) => s.key === 'lxc.hook.start'), 'hooks are applied, not stored');
  assert.match(j.files[2].errors[0].message, /cannot read config: no such file/);
});

test('config show prints the ContainerSpec; --all adds stored keys', { timeout: 30000 }, () => {
  const r = lxts('config', 'show', 'debian/config');
  assert.equal(r.code, 0, r.err);
  const spec = JSON.parse(r.out);
  assert.equal(spec.name, 'debian');
  assert.equal(spec.hostname, 'deb');
  const all = JSON.parse(lxts('config', 'show', '--all', '--name', 'x', 'app/config').out);
  assert.equal(all.spec.name, 'x');
  assert.equal(all.stored.net[0].link, 'br0');
  const bad = lxts('config', 'show', 'broken/caps.conf');
  assert.equal(bad.code, 3);
  assert.equal(bad.out, '');
});

test('config get/set/unset --file edit one file, keeping its comments', { timeout: 30000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'lxts-config-'));
  try {
    const f = join(dir, 'config');
    copyFileSync(join(FIX, 'app/config'), f);
    const before = readFileSync(f, 'utf8');
    assert.equal(lxts('config', 'get', '--file', f, 'lxc.uts.name').out, 'web01\n');
    assert.equal(lxts('config', 'get', '--file', f, 'lxc.environment').out, 'LANG=C.UTF-8\nTZ=UTC\nPATH=/usr/sbin:/usr/bin\nLXTS_FIXTURE_PASSED\n');
    assert.equal(lxts('config', 'get', '--file', f, 'lxc.tty.max').code, 1);
    assert.equal(lxts('config', 'set', '--file', f, 'lxc.uts.name', 'web02').code, 0);
    assert.equal(lxts('config', 'set', '--file', f, '--add', 'lxc.group', 'blue').code, 0);
    const after = readFileSync(f, 'utf8');
    assert.equal(after, before.replace('lxc.uts.name = web01', 'lxc.uts.name = web02').replace('lxc.group = web production\n', 'lxc.group = web production\nlxc.group = blue\n'));
    const bad = lxts('config', 'set', '--file', f, 'lxc.tty.max', 'four');
    assert.equal(bad.code, 3);
    assert.match(bad.err, /lxc\.tty\.max: expected a whole number/);
    assert.equal(readFileSync(f, 'utf8'), after, 'a refused value leaves the file alone');
    assert.equal(lxts('config', 'set', '--file', f, '--add', 'lxc.uts.name', 'x').code, 2);
    const unknown = lxts('config', 'set', '--file', f, 'lxc.custom.thing', '1');
    assert.equal(unknown.code, 0);
    assert.match(unknown.err, /warning: lxc\.custom\.thing: unknown key/);
    assert.equal(lxts('config', 'unset', '--file', f, 'lxc.custom.thing').code, 0);
    assert.equal(lxts('config', 'unset', '--file', f, 'lxc.custom.thing').code, 1);
    // includes are followed by get
    assert.equal(lxts('config', 'get', '--file', join(FIX, 'debian/config'), 'lxc.pty.max').out, '1024\n');
    // a new file is created
    const n = join(dir, 'new.conf');
    assert.equal(lxts('config', 'set', '--file', n, 'lxc.uts.name', 'fresh').code, 0);
    assert.equal(readFileSync(n, 'utf8'), 'lxc.uts.name = fresh\n');
    writeFileSync(n, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config: usage errors, NAME of a container that does not exist, keys, help', { timeout: 30000 }, () => {
  assert.equal(lxts('config').code, 2);
  assert.equal(lxts('config', 'frobnicate').code, 2);
  assert.equal(lxts('config', 'validate').code, 2);
  const g = lxts('config', 'get', '-P', '/nonexistent-lxts-path', 'web', 'lxc.uts.name');
  assert.equal(g.code, 1);
  assert.match(g.err, /no container named "web" in \/nonexistent-lxts-path/);
  assert.match(g.err, /--file/);
  const k = lxts('config', 'keys');
  assert.equal(k.code, 0);
  assert.match(k.out, /^lxc\.net\.\[i\]\.type\s+supported\s+/m);
  assert.match(lxts('config', '--help').out, /validate FILE\.\.\./);
  assert.match(lxts('--help').out, /^  config /m);
});
