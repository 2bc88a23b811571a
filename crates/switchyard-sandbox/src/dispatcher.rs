//! The dispatcher and the services behind it. Routing follows the contract: `/api/<service>/…`
//! → `<service>`; Host `v1.gateway.do` → worker `gateway-v1`; `gateway.do` → `gateway`;
//! `do`, `api.do` → `gateway`; unknown → 404 "Service not found"; known but not in the
//! namespace → 404 "Service not deployed". A service's request runs its deployed code in workerd
//! (see [`crate::runtime`]) when its worker is in the namespace of the dispatcher's environment and
//! no fault is set.

use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use serde_json::json;
use switchyard_core::{Environment, DEFAULT_SERVICES};

use crate::cloudflare::route_version;
use crate::faults::{self, FailureStyle};
use crate::http::json_error;
use crate::state::AppState;
use crate::store::StoreError;

/// Services the dispatcher knows besides the Deploy API's eight.
pub const EXTRA_DISPATCHER_SERVICES: [&str; 3] = ["fn", "agent", "workflows"];

pub fn available_services() -> Vec<&'static str> {
    DEFAULT_SERVICES
        .iter()
        .chain(EXTRA_DISPATCHER_SERVICES.iter())
        .copied()
        .collect()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dispatcher/{env}", any(dispatcher_root))
        .route("/dispatcher/{env}/{*rest}", any(dispatcher_path))
        .route("/services/{env}/{host}", any(service_root))
        .route("/services/{env}/{host}/{*rest}", any(service_path))
}

/// Where a request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Destination {
    DispatcherHealth,
    Service {
        name: String,
        version: Option<String>,
        path: String,
    },
    NotFound,
}

/// A hostname of the platform (`do` or `*.do`), without port, lowercased.
fn platform_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    (host == "do" || host.ends_with(".do")).then_some(host)
}

pub fn host_is_platform(headers: &HeaderMap) -> bool {
    platform_host(headers).is_some()
}

/// `gateway.do` → (gateway, None, None); `v1.gateway.do` → (gateway, v1, None);
/// `db.staging.do` → (db, None, staging); `v2.db.staging.do` → (db, v2, staging).
fn parse_host(host: &str) -> Option<(String, Option<String>, Option<Environment>)> {
    if host == "do" || host == "api.do" {
        return Some(("gateway".into(), None, None));
    }
    let labels: Vec<&str> = host.strip_suffix(".do")?.split('.').collect();
    let env_of = |l: &str| match l {
        "staging" => Some(Environment::Staging),
        "development" | "dev" => Some(Environment::Development),
        _ => None,
    };
    match labels.as_slice() {
        [s] => Some(((*s).into(), None, None)),
        [s, e] if env_of(e).is_some() => Some(((*s).into(), None, env_of(e))),
        [v, s] => Some(((*s).into(), Some((*v).into()), None)),
        [v, s, e] if env_of(e).is_some() => Some(((*s).into(), Some((*v).into()), env_of(e))),
        _ => None,
    }
}

fn resolve(host: Option<&str>, path: &str) -> (Destination, Option<Environment>) {
    if let Some(rest) = path.strip_prefix("/api/") {
        let (name, tail) = rest.split_once('/').map_or((rest, ""), |(n, t)| (n, t));
        if !name.is_empty() {
            let env = host.and_then(parse_host).and_then(|h| h.2);
            return (
                Destination::Service {
                    name: name.into(),
                    version: None,
                    path: format!("/{tail}"),
                },
                env,
            );
        }
    }
    match host {
        Some(h) => match parse_host(h) {
            Some((name, version, env)) => (
                Destination::Service {
                    name,
                    version,
                    path: path.to_owned(),
                },
                env,
            ),
            None => (Destination::NotFound, None),
        },
        None if path == "/health" => (Destination::DispatcherHealth, None),
        None => (Destination::NotFound, None),
    }
}

fn unknown_environment(env: &str) -> Response {
    json_error(
        StatusCode::NOT_FOUND,
        &format!("No dispatcher for \"{env}\": use production, staging or development"),
    )
}

async fn dispatcher_root(
    state: State<AppState>,
    Path(env): Path<String>,
    req: Request,
) -> Response {
    dispatch_in(state, &env, "/".into(), req).await
}

async fn dispatcher_path(
    state: State<AppState>,
    Path((env, rest)): Path<(String, String)>,
    req: Request,
) -> Response {
    dispatch_in(state, &env, format!("/{rest}"), req).await
}

async fn dispatch_in(
    State(state): State<AppState>,
    env: &str,
    path: String,
    req: Request,
) -> Response {
    let Ok(env) = env.parse::<Environment>() else {
        return unknown_environment(env);
    };
    let host = platform_host(req.headers());
    let (destination, _) = resolve(host.as_deref(), &path);
    serve(&state, env, destination, req).await
}

async fn service_root(
    state: State<AppState>,
    Path((env, host)): Path<(String, String)>,
    req: Request,
) -> Response {
    service_in(state, &env, &host, "/".into(), req).await
}

async fn service_path(
    state: State<AppState>,
    Path((env, host, rest)): Path<(String, String, String)>,
    req: Request,
) -> Response {
    service_in(state, &env, &host, format!("/{rest}"), req).await
}

/// `/services/<env>/<host label>/…`: the label is the service's hostname without `.do`
/// (`gateway`, or `v1.gateway` for a versioned worker).
async fn service_in(
    State(state): State<AppState>,
    env: &str,
    label: &str,
    path: String,
    req: Request,
) -> Response {
    let Ok(env) = env.parse::<Environment>() else {
        return unknown_environment(env);
    };
    let host = format!("{}.do", label.to_ascii_lowercase());
    let destination = match parse_host(&host) {
        Some((name, version, _)) => Destination::Service {
            name,
            version,
            path,
        },
        None => Destination::NotFound,
    };
    serve(&state, env, destination, req).await
}

/// The root fallback: a request whose Host is a platform hostname goes to the dispatcher of the
/// environment the hostname names (production by default); anything else is a 404.
pub async fn by_host_or_not_found(State(state): State<AppState>, req: Request) -> Response {
    let Some(host) = platform_host(req.headers()) else {
        return json_error(
            StatusCode::NOT_FOUND,
            "Not found: the sandbox serves /deploy-api, /client/v4, /auth, /dispatcher/<environment>, /services/<environment>/<service> and /__sandbox (see GET /)",
        );
    };
    let (destination, env) = resolve(Some(&host), req.uri().path());
    serve(
        &state,
        env.unwrap_or(Environment::Production),
        destination,
        req,
    )
    .await
}

/// The public URL a worker sees for a request: its own hostname (`gateway.do`,
/// `db.staging.do`, `v1.gateway.do`), the path after routing, the query as sent.
fn public_url(
    name: &str,
    version: Option<&str>,
    env: Environment,
    path: &str,
    query: Option<&str>,
) -> String {
    let mut host = String::new();
    if let Some(v) = version {
        host.push_str(v);
        host.push('.');
    }
    host.push_str(name);
    if env != Environment::Production {
        host.push('.');
        host.push_str(env.as_str());
    }
    let mut url = format!("https://{host}.do{path}");
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    url
}

async fn serve(
    state: &AppState,
    env: Environment,
    destination: Destination,
    req: Request,
) -> Response {
    if let Some(r) = faults::apply(state.faults.for_dispatcher(env), FailureStyle::Platform).await {
        return r;
    }
    let (name, version, path) = match destination {
        Destination::DispatcherHealth => {
            return Json(json!({
                "status": "ok",
                "service": "dispatcher",
                "environment": env.as_str(),
                "namespace": env.namespace(),
            }))
            .into_response()
        }
        Destination::NotFound => return service_not_found(),
        Destination::Service {
            name,
            version,
            path,
        } => (name, version, path),
    };
    if !available_services().contains(&name.as_str()) {
        return service_not_found();
    }
    let worker = match &version {
        Some(v) => format!("{name}-{v}"),
        None => name.clone(),
    };
    let url = public_url(&name, version.as_deref(), env, &path, req.uri().query());
    run_worker(state, env, &name, &worker, &url, req).await
}

/// Runs `worker` of `env`'s namespace on `req` (the service's faults first), with the sandbox's
/// headers on the answer.
async fn run_worker(
    state: &AppState,
    env: Environment,
    service: &str,
    worker: &str,
    url: &str,
    mut req: Request,
) -> Response {
    if let Some(r) = faults::apply(
        state.faults.for_service(service, env),
        FailureStyle::Platform,
    )
    .await
    {
        return r;
    }
    let namespace = env.namespace();
    let script = match state.store.script(&namespace, worker).await {
        Ok(s) => s,
        Err(StoreError::ScriptNotFound | StoreError::NamespaceNotFound) => return (
            StatusCode::NOT_FOUND,
            Json(json!({
                "error": "Service not deployed",
                "message": format!("Worker \"{worker}\" not found in {} namespace", env.as_str()),
                "hint": "Service may not be deployed yet. Deploy via Deploy API.",
            })),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "dispatcher database error");
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error");
        }
    };
    let routed = match route_version(state, &namespace, &script.name, req.headers_mut()).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let version = &routed.version;
    let mut response = state.runtime.invoke(&namespace, version, url, req).await;
    let headers = response.headers_mut();
    // The deployment in effect tells a caller when a new traffic split serves.
    for (k, v) in [
        ("x-sandbox-worker", worker),
        ("x-sandbox-etag", &version.etag),
        ("x-sandbox-version", &version.id),
        ("x-sandbox-deployment", &routed.deployment_id),
    ] {
        if let Ok(v) = HeaderValue::from_str(v) {
            headers.insert(HeaderName::from_static(k), v);
        }
    }
    response
}

/// The environment whose namespace is `namespace` (`dotdo-staging` → staging).
fn environment_of(namespace: &str) -> Option<Environment> {
    Environment::ALL
        .iter()
        .copied()
        .find(|e| e.namespace() == namespace)
}

/// A service binding call from a script to `target` of the same namespace.
pub async fn serve_binding(
    state: &AppState,
    namespace: &str,
    target: &str,
    url: &str,
    mut req: Request,
) -> Response {
    match environment_of(namespace) {
        Some(env) => run_worker(state, env, target, target, url, req).await,
        // A namespace of no environment (created by hand): no faults, straight to the script.
        None => match state.store.script(namespace, target).await {
            Ok(script) => {
                match route_version(state, namespace, &script.name, req.headers_mut()).await {
                    Ok(routed) => {
                        state
                            .runtime
                            .invoke(namespace, &routed.version, url, req)
                            .await
                    }
                    Err(r) => r,
                }
            }
            Err(_) => json_error(
                StatusCode::NOT_FOUND,
                &format!("Service binding target \"{target}\" is not in namespace {namespace}"),
            ),
        },
    }
}

/// A `fetch()` made by a script in `namespace`: a platform host goes to that environment's
/// dispatcher; anything else is refused (the sandbox sends nothing off 127.0.0.1).
pub async fn serve_outbound(
    state: &AppState,
    namespace: &str,
    script: &str,
    url: &str,
    mut req: Request,
) -> Response {
    let parsed = reqwest::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| u.host_str())
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase());
    let Some(host) = host.filter(|h| h == "do" || h.ends_with(".do")) else {
        return (
            StatusCode::BAD_GATEWAY,
            Json(json!({
                "error": "Outbound request refused",
                "message": format!("The sandbox sends no request off 127.0.0.1: fetch(\"{url}\") from {script} was refused. Only the platform's own hosts (*.do) answer here."),
            })),
        )
            .into_response();
    };
    let path = parsed
        .as_ref()
        .map_or("/".to_owned(), |u| u.path().to_owned());
    let (destination, env) = resolve(Some(&host), &path);
    let env = env
        .or_else(|| environment_of(namespace))
        .unwrap_or(Environment::Production);
    for h in ["x-sw-ns", "x-sw-script", "x-sw-url", "x-sw-token"] {
        req.headers_mut().remove(h);
    }
    serve(state, env, destination, req).await
}

fn service_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": "Service not found", "available_services": available_services()})),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str, version: Option<&str>, path: &str) -> Destination {
        Destination::Service {
            name: name.into(),
            version: version.map(Into::into),
            path: path.into(),
        }
    }

    #[test]
    fn routes_as_the_contract_says() {
        assert_eq!(
            resolve(Some("gateway.do"), "/health").0,
            service("gateway", None, "/health")
        );
        assert_eq!(
            resolve(Some("v1.gateway.do"), "/health").0,
            service("gateway", Some("v1"), "/health")
        );
        assert_eq!(resolve(Some("do"), "/x").0, service("gateway", None, "/x"));
        assert_eq!(
            resolve(Some("api.do"), "/x").0,
            service("gateway", None, "/x")
        );
        assert_eq!(
            resolve(None, "/api/db/health").0,
            service("db", None, "/health")
        );
        assert_eq!(
            resolve(Some("api.do"), "/api/db/health").0,
            service("db", None, "/health")
        );
        assert_eq!(resolve(None, "/health").0, Destination::DispatcherHealth);
        assert_eq!(resolve(None, "/other").0, Destination::NotFound);
        let (d, env) = resolve(Some("db.staging.do"), "/health");
        assert_eq!(
            (d, env),
            (service("db", None, "/health"), Some(Environment::Staging))
        );
        assert_eq!(resolve(Some("a.b.c.d.do"), "/").0, Destination::NotFound);
    }
}
