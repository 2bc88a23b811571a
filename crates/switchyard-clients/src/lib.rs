//! Switchyard's HTTP clients for the platform: the Deploy API, Cloudflare's dispatch-namespace
//! API (one method per endpoint, base URL configurable so the sandbox or any compatible server can
//! stand in), its tail (a `trace-v1` WebSocket), the auth service, a concurrent health prober, and
//! the Local sandbox's control API (faults, rehearsed bad deploys, settings).
//!
//! Every call has a timeout; idempotent reads retry with backoff and honour `Retry-After`; every
//! failure becomes an `AppError` with a shared error code and the runbook section that fixes it
//! (the sandbox control client, sent once, returns a `ControlError` its caller words).
//! Keys are held as redacting `Secret`s and only exposed into the `Authorization` header. This
//! crate must not depend on `tauri`, on the store or on the keychain itself.

mod auth;
mod cloudflare;
mod deploy;
mod health;
mod http;
mod sandbox_control;
mod tail;
pub mod versions;

pub use auth::{AuthApi, KeyInfo};
pub use cloudflare::{
    CloudflareApi, CloudflareError, Namespace, NamespaceScript, NamespaceUpdate, ScriptInfo,
    ScriptList, TokenStatus, SCRIPTS_PAGE,
};
pub use deploy::{
    DeployApi, DeployBody, DeployRequest, DeployResult, DeploymentList, DeploymentQuery,
};
pub use health::{HealthProber, ProbeResult, ProbeState, ProbeTarget};
pub use http::{HttpClient, HttpSettings};
pub use sandbox_control::{
    BadDeploy, ControlError, ControlFault, DownHow, FaultEntry, SandboxControl, SandboxSettings,
};
pub use tail::{
    TailInfo, TailSocket, TraceEvent, TraceException, TraceFetchEvent, TraceLog, TraceRequest,
    TraceResponse, TraceScriptVersion, MAX_TRACE_EVENT_BYTES,
};
pub use versions::{
    VersionMetadata, VersionSplit, WorkerDeployment, WorkerVersion, WorkerVersionsApi,
};
