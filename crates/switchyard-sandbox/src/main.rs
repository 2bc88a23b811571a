//! `switchyard-sandbox`: runs the local platform on 127.0.0.1 until Ctrl-C or SIGTERM.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use switchyard_sandbox::{LargeDataSpec, Sandbox, SandboxConfig};

#[derive(Debug, Parser)]
#[command(
    name = "switchyard-sandbox",
    version,
    about = "A local imitation of the platform: Deploy API, Cloudflare WfP API, auth, dispatcher, services, faults. Loopback only."
)]
struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Data dir: the SQLite database and sandbox.json (created when missing).
    #[arg(long = "data", value_name = "DIR")]
    data: PathBuf,
    /// Start without demo data (only on the first start of a data dir).
    #[arg(long)]
    empty: bool,
    /// POST /rollback uploads the previous deployment's script again.
    #[arg(long)]
    true_rollback: bool,
    /// Add scripts for benchmarks: NAMESPACE=COUNT (repeatable), e.g. dotdo-bench=10000.
    #[arg(long = "generate-scripts", value_name = "NAMESPACE=COUNT", value_parser = parse_scripts)]
    generate_scripts: Vec<(String, usize)>,
    /// Add COUNT deployment records for benchmarks.
    #[arg(
        long = "generate-deployments",
        value_name = "COUNT",
        default_value_t = 0
    )]
    generate_deployments: usize,
    /// Exit after generating instead of serving.
    #[arg(long)]
    generate_only: bool,
    /// The workerd binary that executes deployed scripts (default: SWITCHYARD_WORKERD,
    /// MINIFLARE_WORKERD_PATH, the cache `cargo xtask setup` fills, a wrangler install).
    #[arg(long, value_name = "PATH")]
    workerd: Option<PathBuf>,
}

fn parse_scripts(s: &str) -> Result<(String, usize), String> {
    let (ns, n) = s.split_once('=').ok_or("expected NAMESPACE=COUNT")?;
    if ns.is_empty() {
        return Err("the namespace name is empty".into());
    }
    let n = n.parse::<usize>().map_err(|e| format!("COUNT: {e}"))?;
    Ok((ns.to_owned(), n))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "switchyard_sandbox=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let sandbox = Sandbox::start(SandboxConfig {
        data_dir: args.data.clone(),
        port: args.port,
        seed: !args.empty,
        true_rollback: args.true_rollback,
        workerd: args.workerd.clone(),
    })
    .await?;
    let spec = LargeDataSpec {
        scripts: args.generate_scripts,
        deployments: args.generate_deployments,
    };
    if spec != LargeDataSpec::default() {
        let report = sandbox
            .generate_large_data(&spec)
            .await
            .context("generating large data")?;
        eprintln!(
            "generated {} scripts and {} deployment records",
            report.scripts_written, report.deployments_written
        );
    }
    if args.generate_only {
        sandbox.shutdown().await;
        return Ok(());
    }
    // The discovery info, as JSON on stdout (the demo keys are the sandbox's own).
    println!("{}", serde_json::to_string_pretty(sandbox.discovery())?);
    eprintln!(
        "switchyard-sandbox serving on {} (data in {}); Ctrl-C to stop",
        sandbox.discovery().base_url,
        args.data.display()
    );
    wait_for_signal().await;
    eprintln!("stopping");
    sandbox.shutdown().await;
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
