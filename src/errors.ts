// One error type for everything a user can get wrong or the kernel can refuse. The CLI
// prints `lxts: <message>` (plus `hint` when there is one) and exits with `code`.
export const ExitCode = {
  GENERIC: 1,
  USAGE: 2,
  CONFIG: 3,
  NOT_ROOT: 4,
  START_FAILED: 125,
  NOT_EXECUTABLE: 126,
  NOT_FOUND: 127,
} as const;

export class LxtsError extends Error {
  constructor(
    message: string,
    readonly code: number = ExitCode.GENERIC,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'LxtsError';
  }
}

export function usageError(message: string, hint?: string): LxtsError {
  return new LxtsError(message, ExitCode.USAGE, hint);
}

export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new LxtsError(
      `${what} needs root privileges (namespaces, mounts and cgroups are root-only here)`,
      ExitCode.NOT_ROOT,
      `run it as root, e.g. sudo lxts ${process.argv.slice(2).join(' ')}`.trimEnd(),
    );
  }
}
