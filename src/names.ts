// Container names become path components (/var/lib/lxts/NAME, cgroup dirs): validate them
// once, here, and build every path from a checked name.
import { usageError } from './errors.js';

export const MAX_NAME_LENGTH = 64;

export function validateName(name: string): string {
  const why = nameProblem(name);
  if (why) throw usageError(`invalid container name ${JSON.stringify(name)}: ${why}`, 'use letters, digits, ".", "_" and "-" (at most 64 characters, not starting with "." or "-")');
  return name;
}

export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'empty';
  if (name.length > MAX_NAME_LENGTH) return `longer than ${MAX_NAME_LENGTH} characters`;
  if (name.includes('/')) return 'contains a path separator';
  if (name === '.' || name === '..' || name.includes('..')) return 'contains ".."';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return 'contains control characters';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) return 'contains characters other than letters, digits, ".", "_" and "-", or starts with "." or "-"';
  return undefined;
}
