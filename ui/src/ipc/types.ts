// Written by `node scripts/ipc-types.mjs` from bindings.ts (generated from Rust). Do not edit.
//
// One name for each IPC type that bindings.ts exports twice, as X_Serialize (what Rust sends)
// and X_Deserialize (what Rust accepts): X is the shape the commands use it in — as returned
// when they only return it, as taken when they take it (requests, filters, event channels, a
// profile sent back; the wider shape, which what they return fits). Import IPC types from
// here, commands from bindings.ts.

import type * as B from './bindings';

export type * from './bindings';

export type ActionBlock = B.ActionBlock_Serialize;
export type AppError = B.AppError_Deserialize;
export type AppInfo = B.AppInfo_Serialize;
export type ArchivedBundle = B.ArchivedBundle_Serialize;
export type AuditFilter = B.AuditFilter_Deserialize;
export type AuditPage = B.AuditPage_Serialize;
export type AuditRow = B.AuditRow_Serialize;
export type BindingEdit = B.BindingEdit_Deserialize;
export type BindingsEditApplied = B.BindingsEditApplied_Serialize;
export type BindingsEditPlan = B.BindingsEditPlan_Serialize;
export type BindingsEditRequest = B.BindingsEditRequest_Deserialize;
export type BoundServiceCheck = B.BoundServiceCheck_Serialize;
export type BundleSide = B.BundleSide_Serialize;
export type CodeDiff = B.CodeDiff_Serialize;
export type Confirmation = B.Confirmation_Deserialize;
export type ConfirmationRequirement = B.ConfirmationRequirement_Serialize;
export type DeployEvent = B.DeployEvent_Deserialize;
export type DeployOutcome = B.DeployOutcome_Serialize;
export type DeployPlan = B.DeployPlan_Serialize;
export type DeploySettings = B.DeploySettings_Deserialize;
export type Deployment = B.Deployment_Serialize;
export type DeploymentFilter = B.DeploymentFilter_Deserialize;
export type DeploymentMetadata = B.DeploymentMetadata_Serialize;
export type DiffHunk = B.DiffHunk_Serialize;
export type DiffLine = B.DiffLine_Serialize;
export type Drift = B.Drift_Serialize;
export type DriftEntry = B.DriftEntry_Serialize;
export type FolderBindings = B.FolderBindings_Serialize;
export type GateCheck = B.GateCheck_Deserialize;
export type GitInfo = B.GitInfo_Serialize;
export type HealthBoard = B.HealthBoard_Serialize;
export type HealthPoint = B.HealthPoint_Serialize;
export type HistoryPage = B.HistoryPage_Serialize;
export type InterruptedDeploy = B.InterruptedDeploy_Serialize;
export type KeyCheck = B.KeyCheck_Serialize;
export type LiveSplit = B.LiveSplit_Serialize;
export type LiveVersion = B.LiveVersion_Serialize;
export type LogException = B.LogException_Deserialize;
export type LogLine = B.LogLine_Deserialize;
export type LogsEvent = B.LogsEvent_Deserialize;
export type MetadataInput = B.MetadataInput_Deserialize;
export type NamespaceSummary = B.NamespaceSummary_Serialize;
export type NewService = B.NewService_Deserialize;
export type PinnedAnswer = B.PinnedAnswer_Serialize;
export type PlanBasis = B.PlanBasis_Deserialize;
export type PreflightCheck = B.PreflightCheck_Deserialize;
export type PreflightReport = B.PreflightReport_Deserialize;
export type PrepareDeploy = B.PrepareDeploy_Deserialize;
export type PreparedDeploy = B.PreparedDeploy_Serialize;
export type Profile = B.Profile_Deserialize;
export type ProfileSecrets = B.ProfileSecrets_Serialize;
export type PromoteRequest = B.PromoteRequest_Deserialize;
export type RestoreRequest = B.RestoreRequest_Deserialize;
export type RollbackOutcome = B.RollbackOutcome_Serialize;
export type RollbackPlan = B.RollbackPlan_Serialize;
export type RollbackRequest = B.RollbackRequest_Deserialize;
export type Rollout = B.Rollout_Deserialize;
export type RolloutPlan = B.RolloutPlan_Serialize;
export type RolloutRequest = B.RolloutRequest_Deserialize;
export type RolloutSettings = B.RolloutSettings_Deserialize;
export type RunCheck = B.RunCheck_Serialize;
export type RunDetail = B.RunDetail_Serialize;
export type RunEvent = B.RunEvent_Serialize;
export type RunStep = B.RunStep_Serialize;
export type RunSummary = B.RunSummary_Serialize;
export type Runbook = B.Runbook_Serialize;
export type RunbookCatalog = B.RunbookCatalog_Serialize;
export type RunbookInput = B.RunbookInput_Serialize;
export type RunbookLink = B.RunbookLink_Serialize;
export type RunbookStep = B.RunbookStep_Serialize;
export type SandboxRuntime = B.SandboxRuntime_Serialize;
export type ServiceBindingRow = B.ServiceBindingRow_Serialize;
export type ServiceFolderInfo = B.ServiceFolderInfo_Serialize;
export type ServiceHealth = B.ServiceHealth_Serialize;
export type StableVersion = B.StableVersion_Serialize;
export type StartRollout = B.StartRollout_Deserialize;
export type StepAction = B.StepAction_Serialize;
export type StepConfirmation = B.StepConfirmation_Serialize;
export type StepEvent = B.StepEvent_Deserialize;
export type StepPlan = B.StepPlan_Serialize;
export type StepRunRequest = B.StepRunRequest_Deserialize;
export type SuspectDeployment = B.SuspectDeployment_Serialize;
export type Timeline = B.Timeline_Serialize;
export type TimelineItem = B.TimelineItem_Serialize;
export type TimelineNoteRequest = B.TimelineNoteRequest_Deserialize;
export type TimelineRun = B.TimelineRun_Serialize;
export type TimelineWindow = B.TimelineWindow_Deserialize;
export type TokenCheck = B.TokenCheck_Serialize;
export type Verification = B.Verification_Serialize;
export type VersionList = B.VersionList_Serialize;
export type VersionRow = B.VersionRow_Serialize;
export type VersionSummary = B.VersionSummary_Serialize;
export type VersionTest = B.VersionTest_Serialize;
export type WorkerDetail = B.WorkerDetail_Serialize;
export type WorkerQuery = B.WorkerQuery_Deserialize;
export type WorkerRevision = B.WorkerRevision_Serialize;
export type WorkerRow = B.WorkerRow_Serialize;
export type WorkerWindow = B.WorkerWindow_Serialize;
export type WorkerdInstallEvent = B.WorkerdInstallEvent_Deserialize;
export type WorkerdInstallOffer = B.WorkerdInstallOffer_Serialize;
export type WorkerdInstalled = B.WorkerdInstalled_Serialize;

type Assert<T extends true> = T;

/** The types both returned and taken: what a command returned fits the one name (tsc checks). */
export type RoundTrips = [
  Assert<B.AppError_Serialize extends AppError ? true : false>,
  Assert<B.DeploySettings_Serialize extends DeploySettings ? true : false>,
  Assert<B.GateCheck_Serialize extends GateCheck ? true : false>,
  Assert<B.PlanBasis_Serialize extends PlanBasis ? true : false>,
  Assert<B.PreflightCheck_Serialize extends PreflightCheck ? true : false>,
  Assert<B.Profile_Serialize extends Profile ? true : false>,
  Assert<B.Rollout_Serialize extends Rollout ? true : false>,
  Assert<B.RolloutSettings_Serialize extends RolloutSettings ? true : false>,
];
