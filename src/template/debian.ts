import type { Template } from './index.js';
import { LxtsError } from '../errors.js';
export const debianTemplate: Template = { name: 'debian', summary: '', help: '', async create() { throw new LxtsError('template not implemented yet'); } };
