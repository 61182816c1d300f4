//! What the executor needs from a cluster. `driftless-cluster` implements it with the
//! Kubernetes API; keeping it a trait keeps this crate free of the client and the runtime.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use driftless_resource::ResourceKey;
use serde_json::Value;

use crate::options::Propagation;

/// How to send an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplyMode {
    /// Only validate: the API server runs admission and returns the result without storing it.
    pub dry_run: bool,
    /// Take over fields owned by other managers.
    pub force: bool,
    /// Reject unknown or duplicate fields (`fieldValidation=Strict`).
    pub validate: bool,
}

/// The kind of a failed call, for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The object (or its namespace) does not exist.
    NotFound,
    /// The cluster does not serve this kind.
    UnknownKind,
    /// The API server refused the object (validation, admission, immutable field...).
    Invalid,
    /// A field-manager or version conflict.
    Conflict,
    /// Anything else (network, authorization, server error).
    Other,
}

/// A failed cluster call, with the API server's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ClusterError {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// The API server's message (never contains object data).
    pub message: String,
}

/// The cluster operations a sync uses.
pub trait Cluster {
    /// Reads a live object; `None` when it does not exist.
    fn get(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> impl Future<Output = Result<Option<Value>, ClusterError>> + Send;

    /// Reads a live object as recently as the API server's own cache knows it (milliseconds
    /// behind, and far cheaper than [`Cluster::get`]); `None` when it does not exist there.
    /// For existence checks that a server-side apply settles anyway.
    fn peek(
        &self,
        key: &ResourceKey,
        api_version: &str,
    ) -> impl Future<Output = Result<Option<Value>, ClusterError>> + Send {
        self.get(key, api_version)
    }

    /// Server-side apply with the field manager `driftless`; returns the object as stored (or as
    /// it would be, on a dry run).
    fn apply(
        &self,
        object: &Value,
        mode: ApplyMode,
    ) -> impl Future<Output = Result<Value, ClusterError>> + Send;

    /// Replaces the object (PUT), creating it when missing.
    fn replace(
        &self,
        object: &Value,
        dry_run: bool,
    ) -> impl Future<Output = Result<Value, ClusterError>> + Send;

    /// Creates the object (for hooks, which are created afresh on every run).
    fn create(&self, object: &Value) -> impl Future<Output = Result<Value, ClusterError>> + Send;

    /// Deletes the object; a missing object is not an error.
    fn delete(
        &self,
        key: &ResourceKey,
        api_version: &str,
        propagation: Propagation,
    ) -> impl Future<Output = Result<(), ClusterError>> + Send;

    /// Whether each kind the cluster serves is namespaced, by (group, kind).
    fn scopes(
        &self,
    ) -> impl Future<Output = Result<BTreeMap<(String, String), bool>, ClusterError>> + Send;

    /// Every live object carrying the label of application `app`, in full, with its key.
    fn list_owned(
        &self,
        app: &str,
    ) -> impl Future<Output = Result<Vec<(ResourceKey, Value)>, ClusterError>> + Send;

    /// Makes newly created CRDs known, so their custom resources can be sent.
    fn refresh_kinds(&self) -> impl Future<Output = Result<(), ClusterError>> + Send;

    /// Waits; the executor polls health with it.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + Send;
}

/// The `apiVersion` of an object, or `""`.
pub fn api_version(object: &Value) -> &str {
    object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
}
