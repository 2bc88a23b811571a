import { describe, expect, it } from 'vitest'

import app, { {{class_name}} } from '../src/index'

describe('{{service}}', () => {
  it('answers /health over HTTP', async () => {
    const res = await app.request('/health')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ status: 'ok', service: '{{service}}' })
  })

  it('answers health() over RPC', async () => {
    const rpc = new {{class_name}}({} as never, {} as never)
    expect(await rpc.health()).toEqual({ status: 'ok', service: '{{service}}' })
  })
})
