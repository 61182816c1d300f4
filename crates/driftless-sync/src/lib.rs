//! Sync: make the cluster equal to the desired set.
//!
//! [`plan`] is pure: it pairs desired objects with live ones and orders the work (hooks, sync
//! waves, kinds, prune). [`execute`] carries a plan out over the small [`Cluster`] trait, so this
//! crate needs neither a Kubernetes client nor an async runtime. [`sync`] does both, with retries.

mod cluster;
mod drift;
mod execute;
mod hooks;
mod options;
mod order;
mod permit;
mod plan;
mod readiness;
mod report;
mod retry;
mod run;
mod tracking;

pub use cluster::{ApplyMode, Cluster, ClusterError, ErrorKind, api_version};
pub use drift::{Drift, DriftError, drift};
pub use execute::{Readiness, Settings, execute};
pub use hooks::{
    DeletePolicy, HOOK_ANNOTATION, HOOK_DELETE_POLICY_ANNOTATION, HookError, HookPhase, hook_phase,
    is_hook,
};
pub use options::{
    ObjectOptions, OptionError, Propagation, SYNC_OPTIONS_ANNOTATION, SyncOptions, object_options,
};
pub use order::{SYNC_WAVE_ANNOTATION, WaveError, kind_rank, wave};
pub use permit::{Permit, restrict};
pub use plan::{
    ApplyTask, Desired, HookTask, Plan, PlanError, PruneTask, Untouched, Wave, plan,
    resolve_namespaces,
};
pub use readiness::readiness;
pub use report::{Action, Outcome, ResourceResult, Resume, SyncReport};
pub use retry::RetryPolicy;
pub use run::{Known, Observed, PrepareError, observe, prepare, sync, sync_from};
pub use tracking::{APP_LABEL, Owner, TRACKING_ANNOTATION, owner, stamp, tracking_id};
