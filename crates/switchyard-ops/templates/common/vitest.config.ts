import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The tests run in Node: `cloudflare:workers` (the RPC base class) is replaced by a small stand-in.
export default defineConfig({
  resolve: {
    alias: {
      'cloudflare:workers': fileURLToPath(new URL('./tests/stubs/cloudflare-workers.ts', import.meta.url)),
    },
  },
  test: { include: ['tests/**/*.test.ts'] },
})
