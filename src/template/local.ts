import type { Template } from './index.js';
import { LxtsError } from '../errors.js';
export const localTemplate: Template = { name: 'local', summary: '', help: '', async create() { throw new LxtsError('template not implemented yet'); } };
