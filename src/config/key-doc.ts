// The key table rendered as Markdown for docs/config.md (`lxts config keys --markdown`
// prints it; a unit test keeps the committed page equal to it).
import { KEYS, type Support } from './lxc-keys.js';

const SUPPORT_TEXT: Record<Support, string> = {
  supported: 'applied',
  stored: 'stored',
  ignored: 'ignored',
  unsupported: 'warned',
};

export const KEY_TABLE_BEGIN = '<!-- BEGIN KEY TABLE: generated from src/config/lxc-keys.ts by `lxts config keys --markdown` -->';
export const KEY_TABLE_END = '<!-- END KEY TABLE -->';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderKeyTable(): string {
  const rows = KEYS.map((d) => `| \`${d.name}\` | ${SUPPORT_TEXT[d.support]}${d.multi ? ', list' : ''} | \`${cell(d.syntax)}\` | ${cell(d.description)} |`);
  return [KEY_TABLE_BEGIN, '', '| key | lxts | value | what it does |', '|---|---|---|---|', ...rows, '', KEY_TABLE_END].join('\n');
}
