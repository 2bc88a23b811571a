//! Demo data for a first start (the three `dotdo-*` namespaces, the eight services deployed to
//! production and staging with a few versions each), and a generator of large data for benchmarks.

use chrono::{DateTime, Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use switchyard_core::{Environment, DEFAULT_SERVICES};

use crate::deploy_api::{deploy_upload, service_url};
use crate::store::{
    format_time, insert_deployment_in, put_blob_in, put_script_in, random_hex, sha256_hex,
    NewDeployment, ScriptUpload, Store, StoreError,
};

const AUTHORS: [&str; 4] = [
    "ana@example.com",
    "bo@example.com",
    "chen@example.com",
    "dara@example.com",
];
const BRANCHES: [&str; 3] = ["main", "main", "release"];

/// The source of a seeded worker: a small ES module, as `pnpm build` would produce, that answers
/// `/health` and `/`, calls its database through the `DB_SERVICE` binding at `/api/items`, fails on
/// purpose at `/api/fail`, and logs every request (the tail shows it).
pub fn worker_source(service: &str, version: &str, commit: &str) -> String {
    let short = switchyard_core::short_commit(commit);
    format!(
        r#"// {service} {version} (commit {short}), seeded by switchyard-sandbox
const SERVICE = "{service}";
const VERSION = "{version}";

async function items(env) {{
  if (!env.DB_SERVICE) return Response.json({{ error: "No DB_SERVICE binding" }}, {{ status: 500 }});
  const started = Date.now();
  const r = await env.DB_SERVICE.fetch("https://db.do/query?table=items");
  console.log(`db answered ${{r.status}} in ${{Date.now() - started}} ms`);
  if (!r.ok) return Response.json({{ error: "Database unavailable", status: r.status }}, {{ status: 502 }});
  return Response.json({{ service: SERVICE, items: (await r.json()).rows }});
}}

export default {{
  async fetch(request, env) {{
    const url = new URL(request.url);
    console.log(`${{request.method}} ${{url.pathname}} (${{SERVICE}} ${{VERSION}})`);
    switch (url.pathname) {{
      case "/health":
        return Response.json({{ status: "ok", service: SERVICE }});
      case "/":
        return Response.json({{ service: SERVICE, worker: env.WORKER_NAME || SERVICE, version: VERSION }});
      case "/query":
        console.log(`query ${{url.searchParams.get("table")}}`);
        return Response.json({{ service: SERVICE, rows: [{{ id: 1, name: "first" }}, {{ id: 2, name: "second" }}] }});
      case "/api/items":
        return items(env);
      case "/api/fail":
        console.error(`${{SERVICE}}: failing on purpose`);
        throw new Error(`${{SERVICE}} ${{VERSION}}: failure requested at /api/fail`);
      default:
        console.warn(`no route for ${{url.pathname}}`);
        return Response.json({{ error: "Not found", path: url.pathname }}, {{ status: 404 }});
    }}
  }},
}};
"#
    )
}

/// A genuinely broken release of `service`: it starts and answers `/`, but its `/health` reads a
/// binding that does not exist and throws a TypeError, as a bad deploy does.
pub fn broken_worker_source(service: &str, version: &str) -> String {
    format!(
        r#"// {service} {version}: a broken release (its /health reads a binding it does not have)
const SERVICE = "{service}";
const VERSION = "{version}";

export default {{
  async fetch(request, env) {{
    const url = new URL(request.url);
    console.log(`${{request.method}} ${{url.pathname}} (${{SERVICE}} ${{VERSION}})`);
    if (url.pathname === "/health") {{
      const result = await env.DATABASE.prepare("SELECT 1").first();
      return Response.json({{ status: "ok", service: SERVICE, result }});
    }}
    return Response.json({{ service: SERVICE, version: VERSION }});
  }},
}};
"#
    )
}

fn bindings_for(service: &str) -> Map<String, Value> {
    let mut m = Map::new();
    match service {
        "db" => {}
        "auth" => {
            m.insert("DB_SERVICE".into(), json!("db"));
        }
        _ => {
            m.insert("DB_SERVICE".into(), json!("db"));
            m.insert("AUTH_SERVICE".into(), json!("auth"));
        }
    }
    m
}

fn commit(rng: &mut StdRng) -> String {
    let bytes: [u8; 20] = rng.gen();
    hex::encode(bytes)
}

/// One seeded deployment before insertion.
struct Planned {
    record: NewDeployment,
    source: String,
}

fn plan_deployment(
    rng: &mut StdRng,
    service: &str,
    env: Environment,
    version_tag: &str,
    worker_version: Option<&str>,
    at: DateTime<Utc>,
    status: &str,
) -> Planned {
    let sha = commit(rng);
    let metadata = json!({
        "commit": sha,
        "branch": BRANCHES[rng.gen_range(0..BRANCHES.len())],
        "author": AUTHORS[rng.gen_range(0..AUTHORS.len())],
        "version": version_tag,
    });
    let worker = match worker_version {
        Some(v) => format!("{service}-{v}"),
        None => service.to_owned(),
    };
    let source = worker_source(service, version_tag, &sha);
    Planned {
        record: NewDeployment {
            id: format!("deploy_{}_{}", at.timestamp_millis(), random_hex(4)),
            service: service.into(),
            environment: env.as_str().into(),
            tier: None,
            version: worker_version.map(str::to_owned),
            namespace: env.namespace(),
            namespace_mode: "environment".into(),
            worker,
            status: status.into(),
            timestamp: at,
            url: service_url(service, env, worker_version),
            version_tag: version_tag.into(),
            metadata,
            bindings: Value::Object(bindings_for(service)),
            script_hash: Some(sha256_hex(source.as_bytes())),
        },
        source,
    }
}

/// Seeds the demo platform. Idempotent only in the sense that the caller runs it once.
pub async fn seed(store: &Store, created_by: &str) -> Result<(), StoreError> {
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for (i, env) in Environment::ALL.iter().enumerate() {
        store
            .create_namespace(
                &env.namespace(),
                created_by,
                now - Duration::days(60 - i as i64),
            )
            .await?;
    }
    let mut plan: Vec<Planned> = Vec::new();
    for env in [Environment::Production, Environment::Staging] {
        for (i, service) in DEFAULT_SERVICES.iter().enumerate() {
            let minor = (i % 3) as i64;
            for step in 0..3i64 {
                let days_ago = 21 - step * 7 - if env == Environment::Staging { 1 } else { 0 };
                let at = now - Duration::days(days_ago) - Duration::minutes(i as i64 * 37 + 5);
                let version = format!("v1.{}.{}", minor + step, i % 4);
                let status = match (env, *service, step) {
                    (Environment::Production, "email", 2) => "failed",
                    (Environment::Staging, "webhooks", 2) => "rolled_back",
                    _ => "deployed",
                };
                plan.push(plan_deployment(
                    &mut rng, service, env, &version, None, at, status,
                ));
            }
        }
    }
    // A versioned worker alongside the main one: gateway-v2 in production.
    plan.push(plan_deployment(
        &mut rng,
        "gateway",
        Environment::Production,
        "v2.0.0-beta.1",
        Some("v2"),
        now - Duration::days(10),
        "deployed",
    ));
    plan.sort_by_key(|p| p.record.timestamp);

    let mut tx = store.begin().await?;
    for p in &plan {
        put_blob_in(&mut tx, p.source.as_bytes()).await?;
        insert_deployment_in(&mut tx, &p.record).await?;
        // The namespace serves what the last successful deployment of each worker uploaded
        // (a "marking" rollback does not upload again, so the rolled-back one stays served).
        if p.record.status != "failed" {
            let meta = p.record.metadata.as_object().cloned().unwrap_or_default();
            let bindings = p.record.bindings.as_object().cloned().unwrap_or_default();
            let upload = deploy_upload(
                &p.record.worker,
                &p.record.service,
                &p.record.environment,
                p.record.version.as_deref(),
                p.source.clone().into_bytes(),
                &bindings,
                &meta,
            );
            put_script_in(
                &mut tx,
                &p.record.namespace,
                &p.record.worker,
                &upload,
                p.record.timestamp,
            )
            .await?;
        }
    }
    // The development namespace holds what engineers pushed with wrangler: no deployment records.
    for service in ["gateway", "db"] {
        let source = worker_source(service, "dev", &commit(&mut rng));
        let upload = deploy_upload(
            service,
            service,
            "development",
            None,
            source.into_bytes(),
            &bindings_for(service),
            &Map::from_iter([
                ("commit".to_owned(), json!("local")),
                ("branch".to_owned(), json!("dev")),
            ]),
        );
        put_script_in(
            &mut tx,
            "dotdo-development",
            service,
            &upload,
            now - Duration::days(2),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Large data for benchmarks: namespaces filled with scripts, and deployment records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeDataSpec {
    /// `(namespace, script count)`: the namespace is created when missing; scripts are named
    /// `bench-worker-00001`… (six digits from 100,000 scripts up).
    pub scripts: Vec<(String, usize)>,
    /// How many deployment records to add, spread over the services and environments.
    pub deployments: usize,
}

/// What [`LargeDataSpec`] added.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LargeDataReport {
    pub scripts_written: usize,
    pub deployments_written: usize,
}

pub async fn generate_large_data(
    store: &Store,
    created_by: &str,
    spec: &LargeDataSpec,
) -> Result<LargeDataReport, StoreError> {
    let mut report = LargeDataReport::default();
    let now = Utc::now();
    let mut rng = StdRng::seed_from_u64(0xbe7c);
    for (namespace, count) in &spec.scripts {
        if store.namespace(namespace).await?.is_none() {
            store.create_namespace(namespace, created_by, now).await?;
        }
        let mut tx = store.begin().await?;
        // Zero-padded to the count's width (at least 5), so names sort as they are numbered.
        let width = count.to_string().len().max(5);
        for i in 1..=*count {
            let name = format!("bench-worker-{i:0width$}");
            let source = worker_source(&name, "v1.0.0", "0000000bench");
            let upload = ScriptUpload {
                modules: vec![crate::store::ModuleUpload {
                    name: "worker.mjs".into(),
                    content_type: "application/javascript+module".into(),
                    content: source.into_bytes(),
                }],
                main_module: "worker.mjs".into(),
                has_modules: true,
                settings: Map::from_iter([
                    ("bindings".to_owned(), json!([])),
                    ("compatibility_date".to_owned(), json!("2025-01-01")),
                    ("usage_model".to_owned(), json!("standard")),
                ]),
                tags: vec![
                    format!("customer-{}", i % 500),
                    if i % 10 == 0 { "pro-plan" } else { "free-plan" }.into(),
                ],
            };
            put_script_in(
                &mut tx,
                namespace,
                &name,
                &upload,
                now - Duration::seconds(i as i64),
            )
            .await?;
            report.scripts_written += 1;
        }
        tx.commit().await?;
    }
    if spec.deployments > 0 {
        let source = worker_source("bench", "v0.0.1", "0000000bench");
        let mut tx = store.begin().await?;
        let hash = put_blob_in(&mut tx, source.as_bytes()).await?;
        let start = now - Duration::seconds(spec.deployments as i64 * 60);
        for i in 0..spec.deployments {
            let service = DEFAULT_SERVICES[i % DEFAULT_SERVICES.len()];
            let env = Environment::ALL[(i / DEFAULT_SERVICES.len()) % 3];
            let at = start + Duration::seconds(i as i64 * 60);
            let sha = commit(&mut rng);
            let status = if rng.gen_range(0..100) < 3 {
                "failed"
            } else {
                "deployed"
            };
            let record = NewDeployment {
                id: format!("deploy_{}_{}", at.timestamp_millis(), random_hex(4)),
                service: service.into(),
                environment: env.as_str().into(),
                tier: None,
                version: None,
                namespace: env.namespace(),
                namespace_mode: "environment".into(),
                worker: service.into(),
                status: status.into(),
                timestamp: at,
                url: service_url(service, env, None),
                version_tag: sha[..7].to_owned(),
                metadata: json!({"commit": sha, "branch": "main", "author": AUTHORS[i % AUTHORS.len()]}),
                bindings: Value::Object(bindings_for(service)),
                script_hash: Some(hash.clone()),
            };
            insert_deployment_in(&mut tx, &record).await?;
            report.deployments_written += 1;
        }
        tx.commit().await?;
    }
    tracing::info!(
        scripts = report.scripts_written,
        deployments = report.deployments_written,
        at = %format_time(Utc::now()),
        "generated large data"
    );
    Ok(report)
}
