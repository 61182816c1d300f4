//! The Go template engine Helm charts are rendered with.

use std::sync::Arc;

use driftless_helm::{NativeEngine, TemplateEngine};

/// The engine `render`, `diff`, `sync`, `helm template` and the controller render charts with:
/// Helm's, native ([`NativeEngine`]).
pub fn template_engine() -> Arc<dyn TemplateEngine + Send + Sync> {
    Arc::new(NativeEngine::default())
}
