import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layers of the UI, bottom up: ipc/, components/ and shell/ (the shell's contexts, areas,
 * environment looks, providers), then features/, then app/ (the window that composes them).
 * A layer imports only from below it.
 */
const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');


function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return sourceFiles(path);
    }
    return /\.(ts|tsx)$/.test(entry.name) ? [path] : [];
  });
}

/** Every module a file imports: static, type-only, re-exports and dynamic `import()`. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
    if (match[1] !== undefined) {
      found.push(match[1]);
    }
  }
  return found;
}

/** `src`-relative top folder of a relative import (`app`, `features`, …), or null for a package. */
function layerOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) {
    return null;
  }
  const target = relative(SRC, resolve(dirname(file), specifier));
  return target.split(sep)[0] ?? null;
}

function violations(layer: string, forbidden: readonly string[]): string[] {
  const out: string[] = [];
  for (const file of sourceFiles(join(SRC, layer))) {
    const name = relative(SRC, file).split(sep).join('/');
    for (const specifier of importsOf(file)) {
      const target = layerOf(file, specifier);
      if (target !== null && forbidden.includes(target)) {
        out.push(`${name} imports ${specifier}`);
      }
    }
  }
  return out;
}

describe('the layers of the UI', () => {
  it('finds the imports it checks (the check itself works)', () => {
    const imports = importsOf(join(SRC, 'app', 'App.tsx'));
    expect(imports).toContain('../features/deployments/DeploymentsArea');
    expect(imports).toContain('../features/deploy/DeployArea');
    expect(layerOf(join(SRC, 'features', 'x', 'y.ts'), '../../app/areas')).toBe('app');
  });

  it('features never import the app: what they share with it lives in shell/', () => {
    expect(violations('features', ['app'])).toEqual([]);
  });

  it('shell, shared components and IPC never import features or the app', () => {
    for (const layer of ['shell', 'components', 'ipc']) {
      expect(violations(layer, ['app', 'features'])).toEqual([]);
    }
  });
});
