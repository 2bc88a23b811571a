// {{service}}: {{description}}
import { Hono } from 'hono'
import { WorkerEntrypoint } from 'cloudflare:workers'

interface Env {
  {{env_interface}}
  // Workers AI, when bound ("ai": { "binding": "AI" } in wrangler.jsonc). The Deploy API sends
  // service bindings only: without it, generate() says so instead of answering.
  AI?: Ai
}

const MODEL = '@cf/meta/llama-3.1-8b-instruct'

async function generate(env: Env, prompt: string): Promise<{ model: string; text: string }> {
  if (!env?.AI) {
    return { model: 'none', text: 'No AI binding: bind Workers AI as AI to generate text.' }
  }
  const out = (await env.AI.run(MODEL, { prompt })) as { response?: string }
  return { model: MODEL, text: out.response ?? '' }
}

// RPC Interface
export class {{class_name}} extends WorkerEntrypoint<Env> {
  async health() {
    return { status: 'ok', service: '{{service}}' }
  }

  async generate(prompt: string) {
    return generate(this.env, prompt)
  }
}

// HTTP Interface
const app = new Hono<{ Bindings: Env }>()

app.get('/health', (c) => {
  return c.json({ status: 'ok', service: '{{service}}' })
})

app.post('/generate', async (c) => {
  const body = (await c.req.json().catch(() => null)) as { prompt?: unknown } | null
  if (typeof body?.prompt !== 'string' || body.prompt === '') {
    return c.json({ error: 'send { "prompt": "…" }' }, 400)
  }
  return c.json(await generate(c.env, body.prompt))
})

export default app
