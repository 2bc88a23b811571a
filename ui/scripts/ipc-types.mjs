// Writes src/ipc/types.ts: one name for each IPC type that the generated bindings export twice,
// as `X_Serialize` (the shape Rust sends) and `X_Deserialize` (the shape Rust accepts).
//
//   node scripts/ipc-types.mjs          (from ui/; run after `cargo xtask bindings`)
//
// `X` is the shape the generated commands use it in: what they return when they only return it
// (read from Rust: every field present), what they take when they take it (a request, a filter,
// an event channel, a profile sent back). The taken shape is the wider one (fields Rust may omit
// are optional): what a command returned can be passed back as it is, which tsc checks.
// src/ipc/types.test.ts fails when src/ipc/types.ts is not what this script writes.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const IPC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'ipc');

/** The declarations of bindings.ts: name → text of its body. */
function declarations(source) {
  const starts = [...source.matchAll(/^export type (\w+) = /gm)];
  const out = new Map();
  starts.forEach((match, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : source.length;
    out.set(match[1], source.slice(match.index + match[0].length, end));
  });
  return out;
}

const PAIRED = /\b(\w+)_(Serialize|Deserialize)\b/g;

/** The paired types `text` names, by side: 'Serialize' → names, 'Deserialize' → names. */
function pairedIn(text) {
  const found = { Serialize: new Set(), Deserialize: new Set() };
  for (const [, name, side] of text.matchAll(PAIRED)) {
    found[side].add(name);
  }
  return found;
}

/** Every pair reached from `roots` on `side`, through the declarations that side names. */
function closure(roots, side, decls) {
  const seen = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop();
    if (seen.has(name)) {
      continue;
    }
    seen.add(name);
    const body = decls.get(`${name}_${side}`) ?? '';
    for (const next of pairedIn(body)[side]) {
      queue.push(next);
    }
  }
  return seen;
}

export function render(bindings) {
  const decls = declarations(bindings);
  const pairs = [...decls.keys()]
    .filter((n) => n.endsWith('_Serialize') && decls.has(`${n.slice(0, -'_Serialize'.length)}_Deserialize`))
    .map((n) => n.slice(0, -'_Serialize'.length))
    .sort();
  const start = bindings.indexOf('export const commands = {');
  const commandsText = bindings.slice(start, bindings.indexOf('\n};', start));
  const roots = pairedIn(commandsText);
  const returned = closure(roots.Serialize, 'Serialize', decls);
  const taken = closure(roots.Deserialize, 'Deserialize', decls);

  const lines = [
    '// Written by `node scripts/ipc-types.mjs` from bindings.ts (generated from Rust). Do not edit.',
    '//',
    '// One name for each IPC type that bindings.ts exports twice, as X_Serialize (what Rust sends)',
    '// and X_Deserialize (what Rust accepts): X is the shape the commands use it in — as returned',
    '// when they only return it, as taken when they take it (requests, filters, event channels, a',
    '// profile sent back; the wider shape, which what they return fits). Import IPC types from',
    '// here, commands from bindings.ts.',
    '',
    "import type * as B from './bindings';",
    '',
    "export type * from './bindings';",
    '',
  ];
  const both = [];
  for (const name of pairs) {
    const side = taken.has(name) ? 'Deserialize' : 'Serialize';
    lines.push(`export type ${name} = B.${name}_${side};`);
    if (taken.has(name) && returned.has(name)) {
      both.push(name);
    }
  }
  lines.push('');
  lines.push('type Assert<T extends true> = T;');
  lines.push('');
  lines.push('/** The types both returned and taken: what a command returned fits the one name (tsc checks). */');
  lines.push('export type RoundTrips = [');
  for (const name of both) {
    lines.push(`  Assert<B.${name}_Serialize extends ${name} ? true : false>,`);
  }
  lines.push('];');
  lines.push('');
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = render(readFileSync(join(IPC, 'bindings.ts'), 'utf8'));
  writeFileSync(join(IPC, 'types.ts'), text);
  console.log(`wrote ${join(IPC, 'types.ts')}`);
}
