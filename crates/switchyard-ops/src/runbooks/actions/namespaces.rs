//! `namespace-list`, `namespace-get`, `namespace-create`, `namespace-scripts`.

use std::fmt::Write as _;

use super::{ActionResult, Failure, Ops, OutputSink, StepOutput};

impl Ops {
    /// List the dispatch namespaces.
    pub(super) async fn rb_act_namespace_list<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let list = self.list_namespaces(pid).await?;
        let mut text = String::new();
        for n in &list {
            let _ = writeln!(
                text,
                "{:<28} {:>6} workers{}",
                n.name,
                n.script_count,
                if n.trusted_workers { "  trusted" } else { "" }
            );
        }
        let _ = write!(
            text,
            "{} namespace{}",
            list.len(),
            if list.len() == 1 { "" } else { "s" }
        );
        sink.emit(&text).await.map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }

    /// Read one namespace; the step fails when it does not exist.
    pub(super) async fn rb_act_namespace_get<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        name: String,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let list = self.list_namespaces(pid).await?;
        match list.iter().find(|n| n.name == name) {
            Some(n) => {
                sink.emit(&format!(
                    "{}\n  id: {}\n  workers: {}\n  trusted: {}\n  created: {}",
                    n.name,
                    n.id.as_deref().unwrap_or("-"),
                    n.script_count,
                    if n.trusted_workers { "yes" } else { "no" },
                    n.created_on.as_deref().unwrap_or("-")
                ))
                .await
                .map_err(Failure::Store)?;
                Ok(ActionResult::pass())
            }
            None => Ok(ActionResult::fail(format!(
                "Namespace {name} does not exist in the account (there {} {}: {}).",
                if list.len() == 1 { "is" } else { "are" },
                list.len(),
                list.iter()
                    .map(|n| n.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// Create a namespace.
    pub(super) async fn rb_act_namespace_create<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        name: String,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let created = self.create_namespace(pid, &name).await?;
        sink.emit(&format!(
            "Created namespace {} (id {}).",
            created.name,
            created.id.as_deref().unwrap_or("-")
        ))
        .await
        .map_err(Failure::Store)?;
        Ok(ActionResult::pass())
    }

    /// List the workers of a namespace; with `service`, the step fails when it is not there.
    pub(super) async fn rb_act_namespace_scripts<P: Fn(StepOutput) + Send + Sync>(
        &self,
        pid: &str,
        name: String,
        service: &Option<String>,
        sink: &mut OutputSink<'_, P>,
    ) -> Result<ActionResult, Failure> {
        let rows = self.list_workers(pid, &name).await?;
        let mut text = String::new();
        for w in rows.iter().take(200) {
            let _ = writeln!(
                text,
                "{:<28} {:<12} {:<10} {}",
                w.name,
                w.environment.as_deref().unwrap_or("-"),
                w.version.as_deref().unwrap_or("-"),
                w.commit
                    .as_deref()
                    .map(switchyard_core::short_commit)
                    .unwrap_or_else(|| "-".into())
            );
        }
        if rows.len() > 200 {
            let _ = writeln!(text, "… and {} more", rows.len() - 200);
        }
        let _ = write!(
            text,
            "{} worker{} in {name}",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" }
        );
        sink.emit(&text).await.map_err(Failure::Store)?;
        match service {
            Some(s)
                if !rows
                    .iter()
                    .any(|w| &w.name == s || w.service.as_deref() == Some(s.as_str())) =>
            {
                Ok(ActionResult::fail(format!(
                    "Worker {s} is not in namespace {name}: deploy it through the Deploy API."
                )))
            }
            _ => Ok(ActionResult::pass()),
        }
    }
}
