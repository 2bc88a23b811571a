//! A direct deploy of new code, once its bundle is archived and journalled (the Deploy API is
//! down): upload to the namespace, record it as manual, verify.

use super::*;

impl Ops {
    /// The rest of a direct deploy of new code once its bundle is archived and journalled:
    /// upload to the namespace, record it as manual, clear a pin (a deliberate deploy over it),
    /// verify, retention.
    pub(super) async fn execute_direct(
        &self,
        ex: &Execution<'_>,
        plan: DeployPlan,
        record: &switchyard_store::BundleRecord,
        metadata_json: serde_json::Value,
        progress: &Progress<'_>,
    ) -> Result<DeployOutcome, AppError> {
        let (service, environment, profile) = (&ex.service, ex.environment, &ex.profile);
        let mut notes = metadata_json;
        if let Some(m) = notes.as_object_mut() {
            m.insert("manual".into(), true.into());
            if let Some(r) = &ex.reason {
                m.insert("reason".into(), r.clone().into());
            }
        }
        let label = ex.next.version_label.clone().unwrap_or_default();
        let up = self
            .direct_upload(
                &crate::deploy::direct::DirectUpload {
                    profile,
                    run_id: &progress.run_id,
                    service,
                    environment,
                    bytes: &ex.bytes,
                    sha256: &record.sha256,
                    bindings: &ex.bindings,
                    metadata: &ex.metadata,
                    label: &label,
                    bundle_notes: notes,
                },
                progress,
            )
            .await?;
        let pin_cleared = self
            .store
            .clear_pin(&profile.id, service, environment)
            .await?;
        let mut verification = self
            .verify(profile, service, environment, None, progress)
            .await;
        verification.record_detail = format!(
            "none at the Deploy API (a direct upload); recorded here as manual deployment {}",
            up.record.id
        );
        let retention = self.retention_step(progress).await;
        let bundle = self
            .archived_bundle(&profile.id, &up.record.id)
            .await?
            .ok_or_else(|| AppError::internal("Reading the archived bundle"))?;
        verification_result(&up.record, &verification)?;
        Ok(DeployOutcome {
            run_id: progress.run_id.clone(),
            deployment: up.record,
            plan,
            bundle,
            verification,
            pin_cleared,
            pin: None,
            retention,
        })
    }
}
