// {{service}}: {{description}}
import { Hono } from 'hono'
import { WorkerEntrypoint } from 'cloudflare:workers'

interface Env {
  {{env_interface}}
}

type Received = { accepted: true; source: string; bytes: number }

/** Take in one event from an outside system (validate it, then pass it on). */
async function receive(source: string, payload: unknown): Promise<Received> {
  const body = JSON.stringify(payload ?? null)
  // Hand the event on here, e.g. to a queue service through its binding.
  return { accepted: true, source, bytes: body.length }
}

// RPC Interface
export class {{class_name}} extends WorkerEntrypoint<Env> {
  async health() {
    return { status: 'ok', service: '{{service}}' }
  }

  async receive(source: string, payload: unknown) {
    return receive(source, payload)
  }
}

// HTTP Interface
const app = new Hono<{ Bindings: Env }>()

app.get('/health', (c) => {
  return c.json({ status: 'ok', service: '{{service}}' })
})

app.post('/webhooks/:source', async (c) => {
  const payload: unknown = await c.req.json().catch(() => null)
  if (payload === null) {
    return c.json({ error: 'the body must be JSON' }, 400)
  }
  return c.json(await receive(c.req.param('source'), payload), 202)
})

export default app
