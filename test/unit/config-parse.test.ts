// LXC config reader: line syntax, every line kept, includes (files, directories, cycles).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseLine, parseConfig, loadConfig, formatProblem } from '../../src/config/lxc-parse.js';
import { serialize } from '../../src/config/lxc-write.js';

const FIX = fileURLToPath(new URL('../../../test/unit/fixtures/lxc/', import.meta.url));

test('key = value lines follow LXC\'s whitespace and quoting rules', { timeout: 10000 }, () => {
  const e = (raw: string) => parseLine(raw, 'f', 1);
  assert.deepEqual(e('lxc.uts.name = web'), { type: 'entry', key: 'lxc.uts.name', value: 'web', file: 'f', line: 1, raw: 'lxc.uts.name = web' });
  assert.equal((e('\t  lxc.uts.name=web  \t') as { value: string }).value, 'web');
  assert.equal((e('lxc.uts.name   =   web\r') as { value: string }).value, 'web');
  assert.equal((e('lxc.environment = "  padded  "') as { value: string }).value, '  padded  ');
  assert.equal((e("lxc.init.cmd = '/bin/sh'") as { value: string }).value, '/bin/sh');
  assert.equal((e('lxc.init.cmd = "/bin/sh') as { value: string }).value, '"/bin/sh', 'unmatched quote kept');
  assert.equal((e('lxc.uts.name = a = b') as { value: string }).value, 'a = b', 'only the first = splits');
  assert.equal((e('lxc.uts.name = web # not a comment') as { value: string }).value, 'web # not a comment');
  assert.equal((e('lxc.cap.drop =') as { value: string }).value, '');
  assert.equal(e('   # comment').type, 'comment');
  assert.equal(e('#lxc.include = x').type, 'comment');
  assert.equal(e(' \t ').type, 'blank');
  assert.equal(e('').type, 'blank');
  const bad = e('lxc.uts.name web');
  assert.equal(bad.type, 'invalid');
  assert.match((bad as { problem: string }).problem, /no "="/);
  assert.equal(e('= value').type, 'invalid');
});

test('parseConfig keeps every line; serialize gives the same bytes back', { timeout: 10000 }, () => {
  const texts = [
    '# c\n\nlxc.uts.name = a\n',
    'lxc.uts.name = a', // no final newline
    '# crlf\r\nlxc.uts.name = a\r\n\r\n  lxc.tty.max=4  \r\n',
    'mixed\nendings\r\nlxc.a = 1\n',
    '',
    '\n\n',
  ];
  for (const t of texts) assert.equal(serialize(parseConfig(t, 'x')), t, JSON.stringify(t));
  for (const f of ['debian/config', 'app/config', 'share/common.conf', 'broken/values.conf', 'share/common.conf.d/10-site.conf']) {
    const t = readFileSync(join(FIX, f), 'utf8');
    assert.equal(serialize(parseConfig(t, f)), t, f);
  }
  const doc = parseConfig('# a\nlxc.uts.name = x\n\nlxc.tty.max = 2\n', 'f');
  assert.deepEqual(doc.lines.map((l) => [l.type, l.line]), [['comment', 1], ['entry', 2], ['blank', 3], ['entry', 4]]);
});

test('loadConfig follows includes of files and directories in order, with file:line per entry', { timeout: 10000 }, () => {
  const root = join(FIX, 'debian/config');
  const c = loadConfig(root);
  assert.deepEqual(c.problems, []);
  const where = (key: string, value?: string) => c.entries.find((e) => e.key === key && (value === undefined || e.value === value));
  // included entries come at the include line's place, in LXC's order
  const order = c.entries.map((e) => `${e.key}`);
  assert.ok(order.indexOf('lxc.pty.max') > order.indexOf('lxc.include') && order.indexOf('lxc.pty.max') < order.indexOf('lxc.arch'));
  assert.equal(where('lxc.pty.max')!.file, join(FIX, 'debian/../share/common.conf'));
  assert.equal(where('lxc.pty.max')!.line, 7);
  // the directory: *.conf only, sorted by name (00-lxcfs before 10-site; README skipped)
  const hooks = c.entries.filter((e) => e.file.includes('common.conf.d')).map((e) => `${e.file.split('/').pop()}:${e.line}:${e.key}`);
  assert.deepEqual(hooks, ['00-lxcfs.conf:1:lxc.hook.mount', '00-lxcfs.conf:2:lxc.hook.post-stop', '10-site.conf:2:lxc.start.delay', '10-site.conf:3:lxc.group']);
  assert.ok(!c.entries.some((e) => e.key === 'lxc.this.would'));
  assert.equal(c.documents.size, 5);
  assert.equal(c.root.file, root);
});

test('include cycles and missing includes are errors at the include line', { timeout: 10000 }, () => {
  const a = loadConfig(join(FIX, 'cycle/a.conf'));
  assert.equal(a.problems.length, 1);
  const p = a.problems[0]!;
  assert.equal(p.severity, 'error');
  assert.equal(p.file, join(FIX, 'cycle/b.conf'));
  assert.equal(p.line, 2);
  assert.match(p.message, /include cycle: .*a\.conf -> .*b\.conf -> .*a\.conf$/);
  // entries up to the cycle are still read
  assert.deepEqual(a.entries.map((e) => e.key), ['lxc.uts.name', 'lxc.include', 'lxc.tty.max', 'lxc.include']);

  const self = loadConfig(join(FIX, 'cycle/self.conf'));
  assert.match(formatProblem(self.problems[0]!), /self\.conf:1: lxc\.include: include cycle: .*self\.conf -> .*self\.conf/);

  const missing = loadConfig(join(FIX, 'broken/include-missing.conf'));
  assert.match(formatProblem(missing.problems[0]!), /include-missing\.conf:2: lxc\.include: cannot include .*does-not-exist\.conf: no such file or directory/);

  // a drop-in directory (trailing /) that does not exist includes nothing, with a warning
  const files: Record<string, string> = { '/c/config': 'lxc.include = /c/config.d/\nlxc.include = /c/other.d\n' };
  const mem = loadConfig('/c/config', {
    readFile: (p) => { if (!(p in files)) throw Object.assign(new Error('x'), { code: 'ENOENT' }); return files[p]!; },
    readDir: () => undefined, realpath: (p) => p,
  });
  assert.deepEqual(mem.problems.map((p) => [p.line, p.severity]), [[1, 'warning'], [2, 'error']]);
  assert.match(mem.problems[0]!.message, /include directory \/c\/config\.d\/ does not exist/);

  const none = loadConfig(join(FIX, 'nope/config'));
  assert.match(formatProblem(none.problems[0]!), /nope\/config: cannot read config: no such file or directory$/);
});

test('the same file included twice is not a cycle; runaway depth is stopped', { timeout: 10000 }, () => {
  const files: Record<string, string> = {
    '/c/config': 'lxc.include = common.conf\nlxc.include = common.conf\n',
    '/c/common.conf': 'lxc.tty.max = 1\n',
  };
  const opts = { readFile: (p: string) => { if (!(p in files)) throw Object.assign(new Error('x'), { code: 'ENOENT' }); return files[p]!; }, readDir: () => undefined, realpath: (p: string) => p };
  const c = loadConfig('/c/config', opts);
  assert.deepEqual(c.problems, []);
  assert.equal(c.entries.filter((e) => e.key === 'lxc.tty.max').length, 2);

  // f0 includes f1 includes f2 ... : distinct files, no cycle, but bounded
  const deep = { ...opts, readFile: (p: string) => `lxc.include = f${Number(p.slice(2)) + 1}\n`, maxDepth: 5 };
  const d = loadConfig('/f0', deep);
  assert.equal(d.problems.length, 1);
  assert.match(d.problems[0]!.message, /nested deeper than 5/);
});
