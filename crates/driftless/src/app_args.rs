//! Which application a command acts for.

use clap::Args;

/// The application: its name (the tracking id) and where its namespaced objects go. Flags only,
/// no environment fallbacks: a stray variable must never retarget a sync or a prune.
#[derive(Debug, Args)]
pub struct AppArgs {
    /// Application name, written into every object's tracking id; prune touches only objects
    /// carrying it.
    #[arg(long)]
    pub app: String,
    /// Namespace for namespaced objects that name none [default: the kubeconfig context's].
    #[arg(long)]
    pub dest_namespace: Option<String>,
}
