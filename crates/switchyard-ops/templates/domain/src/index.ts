// {{service}}: {{description}}
import { Hono } from 'hono'
import { WorkerEntrypoint } from 'cloudflare:workers'

interface Env {
  {{env_interface}}
}

type Dependency = { binding: string; status: number | 'unreachable' }

/** The service bindings of `env` (everything that can be fetched). */
function bindings(env: Env): [string, Fetcher][] {
  return Object.entries(env ?? {}).filter(
    (e): e is [string, Fetcher] => typeof (e[1] as Partial<Fetcher> | undefined)?.fetch === 'function',
  )
}

/** The /health of every service this one calls. */
async function dependencies(env: Env): Promise<Dependency[]> {
  return Promise.all(
    bindings(env).map(async ([binding, service]) => {
      try {
        const res = await service.fetch('https://internal/health')
        return { binding, status: res.status }
      } catch {
        return { binding, status: 'unreachable' as const }
      }
    }),
  )
}

// RPC Interface
export class {{class_name}} extends WorkerEntrypoint<Env> {
  async health() {
    return { status: 'ok', service: '{{service}}' }
  }

  async dependencies() {
    return dependencies(this.env)
  }
}

// HTTP Interface
const app = new Hono<{ Bindings: Env }>()

app.get('/health', (c) => {
  return c.json({ status: 'ok', service: '{{service}}' })
})

app.get('/health/dependencies', async (c) => {
  return c.json({ service: '{{service}}', dependencies: await dependencies(c.env) })
})

export default app
