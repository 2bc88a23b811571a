// A stand-in for `cloudflare:workers` in tests run by Node: the RPC base class keeps its env.
export class WorkerEntrypoint<Env = unknown> {
  constructor(
    readonly ctx: unknown,
    readonly env: Env,
  ) {}
}
