import { LxtsError, ExitCode } from '../errors.js';

/**
 * Everything the cgroup layer can refuse or the kernel can reject. The message is one clear
 * line: what failed, which file, the kernel's errno text. `file` and `errno` (e.g. "EINVAL")
 * are set when a file operation failed.
 */
export class CgroupError extends LxtsError {
  file?: string;
  errno?: string;
  constructor(message: string, opts: { file?: string; errno?: string; hint?: string } = {}) {
    super(message, ExitCode.GENERIC, opts.hint);
    this.name = 'CgroupError';
    if (opts.file !== undefined) this.file = opts.file;
    if (opts.errno !== undefined) this.errno = opts.errno;
  }
}

/** "EINVAL: invalid argument, write" -> "invalid argument". */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(err?.message ?? '');
  return m ? m[1]! : String(err?.message ?? e);
}

export function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException)?.code;
}

/** Wrap a failed fs call: "<what>: <file>: <errno text> (<ERRNO>)". */
export function fsError(what: string, file: string, e: unknown, hint?: string): CgroupError {
  if (e instanceof CgroupError) return e;
  const code = errnoOf(e);
  const opts: { file: string; errno?: string; hint?: string } = { file };
  if (code !== undefined) opts.errno = code;
  if (hint !== undefined) opts.hint = hint;
  return new CgroupError(`${what}: ${file}: ${errnoText(e)}${code ? ` (${code})` : ''}`, opts);
}
