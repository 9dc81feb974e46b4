// Editing an LXC config document in place: every line not touched keeps its exact bytes
// (comments, blank lines, spacing, order, line endings), so `serialize(parseConfig(t))`
// is `t`, and setting a key changes one line.
//
// Single-valued keys (lxc.uts.name): the last line wins when read, so setKey replaces the
// last line of the key in place, or appends one.
// Multi-valued keys (lxc.mount.entry, lxc.cap.drop, lxc.net.N.ipv4.address, lxc.cgroup.*,
// lxc.hook.*, ...; `multi` in the key table): every line counts. setKey still replaces only
// the last line (change one entry); addKey appends another line after the last one of the
// key; unsetKey removes every line of the key. An empty value written with setKey is LXC's
// "clear the list" line.
// These functions edit one document (one file); keys that come from an included file are
// read with getKey on the loaded config but must be changed in that file.
import { parseLine, type ConfigDocument, type ConfigLine, type EntryLine } from './lxc-parse.js';

/** The value LXC uses for a key in this document: the last line's, after any clearing line. */
export function getKey(doc: ConfigDocument | EntryLine[], key: string): string | undefined {
  const vals = getAll(doc, key);
  return vals.at(-1);
}

/** Every value of a (multi-valued) key, after the last empty "clear" line. */
export function getAll(doc: ConfigDocument | EntryLine[], key: string): string[] {
  const lines = Array.isArray(doc) ? doc : doc.lines;
  let out: string[] = [];
  for (const l of lines) {
    if (l.type !== 'entry' || l.key !== key) continue;
    out = l.value === '' ? [] : [...out, l.value];
  }
  return out;
}

/** The text of a `key = value` line; values that the reader would trim or unquote are quoted. */
export function formatEntry(key: string, value: string): string {
  if (/[\r\n\0]/.test(value)) throw new Error(`a value cannot contain a line break or NUL (${key})`);
  if (!/^lxc\.[A-Za-z0-9_.-]+$/.test(key)) throw new Error(`"${key}" is not a valid key`);
  const needsQuotes = /^[ \t]|[ \t]$/.test(value) || (value.length > 1 && /^["']/.test(value) && value.endsWith(value[0]!));
  return `${key} = ${needsQuotes ? `"${value}"` : value}`;
}

function lastIndex(doc: ConfigDocument, key: string): number {
  for (let i = doc.lines.length - 1; i >= 0; i--) {
    const l = doc.lines[i]!;
    if (l.type === 'entry' && l.key === key) return i;
  }
  return -1;
}

/** Rebuild a line from new text, keeping the old one's indentation and ending. */
function replaced(old: ConfigLine, text: string): ConfigLine {
  const indent = /^[ \t]*/.exec(old.raw)![0];
  return { ...parseLine(indent + text, old.file, old.line), eol: old.eol };
}

function append(doc: ConfigDocument, text: string, at = doc.lines.length): void {
  const prev = doc.lines[at - 1];
  // The line before must end with a newline, in the file's own style.
  const eol = doc.lines.find((l) => l.eol !== '')?.eol ?? '\n';
  if (prev && prev.eol === '') prev.eol = eol;
  const line: ConfigLine = { ...parseLine(text, doc.file, at + 1), eol: at < doc.lines.length ? eol : prev ? eol : '\n' };
  doc.lines.splice(at, 0, line);
  renumber(doc);
}

function renumber(doc: ConfigDocument): void {
  doc.lines.forEach((l, i) => (l.line = i + 1));
}

/** Set a key: the last line of the key is rewritten in place, or a line is appended. */
export function setKey(doc: ConfigDocument, key: string, value: string): void {
  const text = formatEntry(key, value);
  const i = lastIndex(doc, key);
  if (i >= 0) doc.lines[i] = replaced(doc.lines[i]!, text);
  else append(doc, text);
}

/** Add one more value to a multi-valued key, right after its last line (or at the end). */
export function addKey(doc: ConfigDocument, key: string, value: string): void {
  const text = formatEntry(key, value);
  const i = lastIndex(doc, key);
  append(doc, text, i >= 0 ? i + 1 : doc.lines.length);
}

/** Remove every line of a key; returns how many were removed. */
export function unsetKey(doc: ConfigDocument, key: string): number {
  const before = doc.lines.length;
  doc.lines = doc.lines.filter((l) => !(l.type === 'entry' && l.key === key));
  // If the removed line was the last one, the new last line keeps the file's final newline
  // only if it had one; nothing else changes.
  renumber(doc);
  return before - doc.lines.length;
}

/** The document's text: unchanged lines byte-for-byte. */
export function serialize(doc: ConfigDocument): string {
  return doc.lines.map((l) => l.raw + l.eol).join('');
}
