import type { Template } from './index.js';
import { LxtsError } from '../errors.js';
export const ociTemplate: Template = { name: 'oci', summary: '', help: '', async create() { throw new LxtsError('template not implemented yet'); } };
