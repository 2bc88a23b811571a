// The sandbox's router worker: the only worker workerd is configured with. The Rust sandbox owns
// every piece of state (namespaces, scripts, bindings, secrets); this worker only loads a script's
// code when a request for it arrives (workerd's Worker Loader, keyed by the script's code id, so a
// new deploy loads new code without a restart) and runs it. It talks to nothing but the sandbox
// (the CONTROL service, 127.0.0.1): code comes from it, tail events go to it, and every outgoing
// fetch of a user worker goes through it.
//
// Request headers set by the sandbox: x-sw-ns, x-sw-script, x-sw-code (the code id), x-sw-version
// (the version of the script the dispatcher chose; each version is loaded as a worker of its own),
// x-sw-url (the URL the user worker must see). They never reach the user worker.
import { WorkerEntrypoint } from "cloudflare:workers";

const CONTROL = "http://sandbox/__sandbox/runtime";
const OWN_HEADERS = ["x-sw-ns", "x-sw-script", "x-sw-code", "x-sw-version", "x-sw-url", "x-sw-token"];

function control(env, path, init = {}) {
  const headers = new Headers(init.headers || {});
  headers.set("x-sw-token", env.TOKEN);
  return env.CONTROL.fetch(`${CONTROL}${path}`, { ...init, headers });
}

function decodeBase64(b64) {
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes.buffer;
}

function loadWorker(env, ctx, ns, script, code, version) {
  return env.LOADER.get(`${ns}/${script}/${code}`, async () => {
    const q = new URLSearchParams({ ns, script, code, version: version || "" });
    const r = await control(env, `/code?${q}`);
    if (!r.ok) throw new Error(`The sandbox has no code ${code} for ${ns}/${script} (${r.status}): ${await r.text()}`);
    const c = await r.json();
    const modules = {};
    for (const [name, m] of Object.entries(c.modules)) {
      if ("data_b64" in m) modules[name] = { data: decodeBase64(m.data_b64) };
      else if ("wasm_b64" in m) modules[name] = { wasm: decodeBase64(m.wasm_b64) };
      else modules[name] = m;
    }
    const workerEnv = { ...c.env };
    for (const [binding, target] of Object.entries(c.services || {})) {
      workerEnv[binding] = ctx.exports.ScriptService({ props: { ns, script: target, from: script } });
    }
    return {
      compatibilityDate: c.compatibilityDate,
      compatibilityFlags: c.compatibilityFlags,
      mainModule: c.mainModule,
      modules,
      env: workerEnv,
      globalOutbound: ctx.exports.Outbound({ props: { ns, script } }),
      tails: [ctx.exports.TailCollector({ props: { ns, script, code, version: version || "" } })],
    };
  });
}

function failure(status, error, e, script) {
  const message = String(e && e.message ? e.message : e);
  return new Response(
    JSON.stringify({ error, message, name: (e && e.name) || "Error", worker: script }),
    { status, headers: { "content-type": "application/json", "x-sandbox-exception": "1" } },
  );
}

// A request of a loaded script that goes back through the sandbox (`path`), with the script's
// namespace and the URL it asked for.
function viaSandbox(env, path, request, headersToSet) {
  const headers = new Headers(request.headers);
  for (const [k, v] of Object.entries(headersToSet)) headers.set(k, v);
  headers.set("x-sw-url", request.url);
  const hasBody = !["GET", "HEAD"].includes(request.method);
  return control(env, path, {
    method: request.method,
    headers,
    body: hasBody ? request.body : undefined,
    redirect: "manual",
  });
}

// A service binding of one script to another of its namespace: back through the sandbox, which
// resolves the target's current code and applies its faults, as the dispatcher does.
export class ScriptService extends WorkerEntrypoint {
  async fetch(request) {
    const { ns, script, from } = this.ctx.props;
    return viaSandbox(this.env, "/binding", request, { "x-sw-ns": ns, "x-sw-script": script, "x-sw-from": from });
  }
}

// Every fetch() of a user worker: the sandbox routes *.do hosts to the dispatcher and refuses
// anything else (nothing leaves 127.0.0.1).
export class Outbound extends WorkerEntrypoint {
  async fetch(request) {
    const { ns, script } = this.ctx.props;
    return viaSandbox(this.env, "/outbound", request, { "x-sw-ns": ns, "x-sw-script": script });
  }
}

// The tail worker of every loaded script: its trace events (logs, exceptions, outcome, request)
// go to the sandbox, which serves them to tail WebSockets.
export class TailCollector extends WorkerEntrypoint {
  async tail(events) {
    await control(this.env, "/trace", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ props: this.ctx.props, events }),
    });
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__sw_ping") return new Response("ok");
    const ns = request.headers.get("x-sw-ns");
    const script = request.headers.get("x-sw-script");
    const code = request.headers.get("x-sw-code");
    const version = request.headers.get("x-sw-version");
    if (!ns || !script || !code) return new Response("missing x-sw-ns, x-sw-script or x-sw-code", { status: 400 });
    const worker = loadWorker(env, ctx, ns, script, code, version);
    if (url.pathname === "/__sw_validate") {
      // Compiles the modules and runs their top-level code, but no handler: an entrypoint that
      // cannot exist is asked for, so a good bundle answers "no such entrypoint".
      try {
        await worker.getEntrypoint("__switchyard_validate__").fetch("http://validate/");
        return Response.json({ valid: true });
      } catch (e) {
        const message = String(e && e.message ? e.message : e);
        if (message.startsWith("Worker has no such entrypoint")) return Response.json({ valid: true });
        return Response.json({ valid: false, error: message }, { status: 422 });
      }
    }
    const headers = new Headers(request.headers);
    const target = headers.get("x-sw-url") || request.url;
    for (const h of OWN_HEADERS) headers.delete(h);
    const hasBody = !["GET", "HEAD"].includes(request.method);
    const inner = new Request(target, {
      method: request.method,
      headers,
      body: hasBody ? request.body : undefined,
      redirect: "manual",
    });
    try {
      return await worker.getEntrypoint().fetch(inner);
    } catch (e) {
      const message = String(e && e.message ? e.message : e);
      if (message.startsWith("Failed to start Worker")) return failure(500, "Worker failed to start", e, script);
      return failure(500, "Worker threw exception", e, script);
    }
  },
};
