/// <reference types="vitest/config" />
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const FIRST_SCREEN_CSS = fileURLToPath(new URL('./src/app/styles/firstScreen.css', import.meta.url));
const MANTINE_STYLES = fileURLToPath(new URL('./node_modules/@mantine/core/styles/', import.meta.url));

/**
 * The first screen loads only some of Mantine's styles (src/app/styles/firstScreen.css); the
 * others come with the first other area (rest.css). This fails the build when the JavaScript
 * loaded at start (the entry and what it imports, statically or as the app's boot chunk) uses a
 * Mantine component whose styles are not in firstScreen.css: it would render unstyled.
 */
function firstScreenStyles(): Plugin {
  return {
    name: 'switchyard-first-screen-styles',
    apply: 'build',
    generateBundle(_options, bundle) {
      const listed = readFileSync(FIRST_SCREEN_CSS, 'utf8');
      const chunks = Object.values(bundle).flatMap((c) => (c.type === 'chunk' ? [c] : []));
      const byName = new Map(chunks.map((c) => [c.fileName, c]));
      const start = chunks.filter((c) => c.isEntry || c.name === 'boot');
      const seen = new Set<string>();
      const missing = new Set<string>();
      while (start.length > 0) {
        const chunk = start.pop();
        if (!chunk || seen.has(chunk.fileName)) continue;
        seen.add(chunk.fileName);
        for (const id of Object.keys(chunk.modules)) {
          const component = /@mantine\/core\/esm\/components\/(\w+)\//.exec(id)?.[1];
          if (component && existsSync(`${MANTINE_STYLES}${component}.layer.css`) && !listed.includes(`/${component}.layer.css'`)) {
            missing.add(component);
          }
        }
        for (const next of chunk.imports) {
          const c = byName.get(next);
          if (c) start.push(c);
        }
      }
      if (missing.size > 0) {
        this.error(
          `the first screen uses Mantine components whose styles are not loaded at start: ${[...missing].sort().join(', ')}. ` +
            'Add their `.layer.css` files to src/app/styles/firstScreen.css (and remove them from rest.css).',
        );
      }
    },
  };
}

// The Tauri shell loads ui/dist in production and this dev server (port 5173) in `tauri dev`.
export default defineConfig({
  plugins: [react(), firstScreenStyles()],
  clearScreen: false,
  envPrefix: ['VITE_', 'TAURI_'],
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    // No inline <script>: the app's CSP is script-src 'self'.
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    css: false,
    restoreMocks: true,
    testTimeout: 15000,
  },
});
