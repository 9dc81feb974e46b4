// lxts unfreeze NAME   (lxc-unfreeze)
import { freezeCommand } from './freeze.js';

export const run = (argv: string[]): Promise<number> => freezeCommand(argv, true);
