// LXC config writer: unchanged documents round-trip byte-for-byte; setting a key changes
// one line and keeps comments, order, indentation and line endings.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/lxc-parse.js';
import { getKey, getAll, setKey, addKey, unsetKey, serialize, formatEntry } from '../../src/config/lxc-write.js';

const FIX = fileURLToPath(new URL('../../../test/unit/fixtures/lxc/', import.meta.url));

function changedLines(a: string, b: string): string[] {
  const x = a.split('\n');
  const y = b.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if (x[i] !== y[i]) out.push(`${i + 1}: ${x[i]} => ${y[i]}`);
  return out;
}

test('setKey replaces the last occurrence in place and keeps everything else', { timeout: 10000 }, () => {
  const text = readFileSync(FIX + 'app/config', 'utf8');
  const doc = parseConfig(text, 'app/config');
  setKey(doc, 'lxc.uts.name', 'web02');
  setKey(doc, 'lxc.signal.halt', 'SIGPWR');
  const out = serialize(doc);
  assert.deepEqual(changedLines(text, out), ['4: lxc.uts.name = web01 => lxc.uts.name = web02', '75: lxc.signal.halt = SIGTERM => lxc.signal.halt = SIGPWR']);
  assert.equal(getKey(doc, 'lxc.uts.name'), 'web02');
  // comments survive
  assert.ok(out.startsWith('# An application container'));
});

test('setKey on a repeated key rewrites the last line (the one LXC uses)', { timeout: 10000 }, () => {
  const text = '# first\nlxc.tty.max = 1\n# second\n  lxc.tty.max=2\n# end\n';
  const doc = parseConfig(text, 'f');
  setKey(doc, 'lxc.tty.max', '8');
  assert.equal(serialize(doc), '# first\nlxc.tty.max = 1\n# second\n  lxc.tty.max = 8\n# end\n', 'indentation kept');
  assert.equal(getKey(doc, 'lxc.tty.max'), '8');
});

test('setKey appends when the key is absent, in the file\'s own line endings', { timeout: 10000 }, () => {
  const noEol = parseConfig('lxc.uts.name = a', 'f');
  setKey(noEol, 'lxc.tty.max', '4');
  assert.equal(serialize(noEol), 'lxc.uts.name = a\nlxc.tty.max = 4\n');
  const crlf = parseConfig('# x\r\nlxc.uts.name = a\r\n', 'f');
  setKey(crlf, 'lxc.tty.max', '4');
  setKey(crlf, 'lxc.uts.name', 'b');
  assert.equal(serialize(crlf), '# x\r\nlxc.uts.name = b\r\nlxc.tty.max = 4\r\n');
  const empty = parseConfig('', 'f');
  setKey(empty, 'lxc.uts.name', 'a');
  assert.equal(serialize(empty), 'lxc.uts.name = a\n');
  assert.deepEqual(empty.lines.map((l) => l.line), [1]);
});

test('multi-valued keys: addKey after the last line, unsetKey removes all, empty value clears', { timeout: 10000 }, () => {
  const doc = parseConfig('lxc.mount.entry = a b none bind 0 0\n# between\nlxc.mount.entry = c d none bind 0 0\nlxc.uts.name = x\n', 'f');
  addKey(doc, 'lxc.mount.entry', 'e f none bind 0 0');
  assert.equal(serialize(doc), 'lxc.mount.entry = a b none bind 0 0\n# between\nlxc.mount.entry = c d none bind 0 0\nlxc.mount.entry = e f none bind 0 0\nlxc.uts.name = x\n');
  assert.deepEqual(getAll(doc, 'lxc.mount.entry'), ['a b none bind 0 0', 'c d none bind 0 0', 'e f none bind 0 0']);
  assert.deepEqual(doc.lines.map((l) => l.line), [1, 2, 3, 4, 5]);
  addKey(doc, 'lxc.mount.entry', '');
  addKey(doc, 'lxc.mount.entry', 'g h none bind 0 0');
  assert.deepEqual(getAll(doc, 'lxc.mount.entry'), ['g h none bind 0 0'], 'an empty value clears the list, as in LXC');
  assert.equal(unsetKey(doc, 'lxc.mount.entry'), 5);
  assert.equal(serialize(doc), '# between\nlxc.uts.name = x\n');
  assert.equal(unsetKey(doc, 'lxc.mount.entry'), 0);
  assert.equal(getKey(doc, 'lxc.mount.entry'), undefined);
});

test('values that the reader would trim or unquote are quoted; line breaks are refused', { timeout: 10000 }, () => {
  assert.equal(formatEntry('lxc.environment', ' X=1 '), 'lxc.environment = " X=1 "');
  assert.equal(formatEntry('lxc.environment', '"q"'), 'lxc.environment = ""q""');
  assert.equal(formatEntry('lxc.uts.name', 'plain'), 'lxc.uts.name = plain');
  const doc = parseConfig('', 'f');
  setKey(doc, 'lxc.environment', ' X=1 ');
  const back = parseConfig(serialize(doc), 'f');
  assert.equal(getKey(back, 'lxc.environment'), ' X=1 ');
  assert.throws(() => formatEntry('lxc.uts.name', 'a\nlxc.cap.drop = all'), /line break/);
  assert.throws(() => formatEntry('lxc uts', 'a'), /not a valid key/);
});
