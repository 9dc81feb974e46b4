// lxts internal post-stop NAME -P PATH: run by a container's monitor after its init exited
// (the plan's ON_EXIT), so clean-up policy stays in TypeScript. Not for users.
import { parse } from './args.js';
import { COMMON_OPTIONS, nameArg, pathOpts } from './common.js';
import { postStop } from '../container.js';
import { usageError } from '../errors.js';

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'post-stop') throw usageError(`unknown internal command "${sub ?? ''}"`);
  const { values: v, positionals } = parse(rest, COMMON_OPTIONS, true);
  const { name } = nameArg(v, positionals, 'lxts internal post-stop NAME');
  await postStop(name, pathOpts(v));
  return 0;
}
