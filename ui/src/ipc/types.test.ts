import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { render } from '../../scripts/ipc-types.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const read = (name: string) => readFileSync(join(HERE, name), 'utf8');

describe('the IPC types', () => {
  it('give each paired type of the bindings one name: types.ts is what `node scripts/ipc-types.mjs` writes', () => {
    // When this fails after `cargo xtask bindings`: run `node scripts/ipc-types.mjs` in ui/.
    expect(read('types.ts')).toBe(render(read('bindings.ts')));
  });

  it('name a type only returned by its returned shape, and a taken one by the wider taken shape', () => {
    const text = render(
      [
        'export const commands = {',
        '\tget: () => typedError<Row_Serialize, AppError_Serialize>(__TAURI_INVOKE("get")),',
        '\tput: (row: Row_Deserialize, filter: Filter_Deserialize) => typedError<null, AppError_Serialize>(__TAURI_INVOKE("put")),',
        '};',
        'export type AppError_Deserialize = { code: string };',
        'export type AppError_Serialize = { code: string };',
        'export type Filter_Deserialize = { text?: string | null };',
        'export type Filter_Serialize = { text: string | null };',
        'export type Row_Deserialize = { name?: string | null; cell?: Cell_Deserialize };',
        'export type Row_Serialize = { name: string | null; cell: Cell_Serialize };',
        'export type Cell_Deserialize = { at?: number | null };',
        'export type Cell_Serialize = { at: number | null };',
      ].join('\n'),
    );
    expect(text).toContain('export type AppError = B.AppError_Serialize;');
    expect(text).toContain('export type Filter = B.Filter_Deserialize;');
    expect(text).toContain('export type Row = B.Row_Deserialize;');
    // Reached through Row on both sides.
    expect(text).toContain('export type Cell = B.Cell_Deserialize;');
    expect(text).toContain('Assert<B.Row_Serialize extends Row ? true : false>');
    expect(text).not.toContain('Assert<B.Filter_Serialize');
  });

  it('leave no choice between X_Serialize and X_Deserialize to the code that uses them', () => {
    const src = join(HERE, '..');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    const choosing = walk(src)
      .map((file) => file.slice(src.length + 1).split('\\').join('/'))
      .filter((name) => !name.startsWith('ipc/bindings.ts') && !name.startsWith('ipc/types'))
      .filter((name) => /\b\w+_(Serialize|Deserialize)\b/.test(readFileSync(join(src, name), 'utf8')));
    expect(choosing).toEqual([]);
  });
});
