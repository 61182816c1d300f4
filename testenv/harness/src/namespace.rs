//! One namespace per test.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::Client;
use kube::api::{Api, DeleteParams, PostParams};

use crate::Error;

/// Label put on every test namespace, so leftovers are easy to find.
pub const TEST_LABEL: &str = "driftless.dev/test";

/// A namespace created for one test, named after it with a random suffix.
#[derive(Clone)]
pub struct TestNamespace {
    client: Client,
    name: String,
}

impl std::fmt::Debug for TestNamespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestNamespace")
            .field("name", &self.name)
            .finish()
    }
}

impl TestNamespace {
    /// Creates a namespace whose name starts with `test` (made DNS-safe).
    pub async fn create(client: Client, test: &str) -> Result<Self, Error> {
        let mut prefix: String = test
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .take(40)
            .collect();
        prefix = prefix.trim_matches('-').to_owned();
        if prefix.is_empty() {
            prefix.push_str("test");
        }
        let ns: Namespace = serde_json::from_value(serde_json::json!({
            "metadata": {"generateName": format!("{prefix}-"), "labels": {TEST_LABEL: "true"}}
        }))
        .map_err(|e| Error::Shared(format!("building a namespace: {e}")))?;
        let created = Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .map_err(|source| Error::Kube {
                what: format!("creating a namespace for {test}"),
                source: Box::new(source),
            })?;
        let name = created.metadata.name.unwrap_or_default();
        Ok(Self { client, name })
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A client for the control plane.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Starts deleting the namespace (the namespace controller empties it in the background).
    pub async fn delete(self) -> Result<(), Error> {
        Api::<Namespace>::all(self.client)
            .delete(&self.name, &DeleteParams::background())
            .await
            .map(|_| ())
            .map_err(|source| Error::Kube {
                what: format!("deleting namespace {}", self.name),
                source: Box::new(source),
            })
    }
}

/// Runs `test` against the shared control plane in a fresh namespace, then deletes the namespace,
/// also when `test` panics (the panic is then resumed).
pub async fn with_namespace<T, F, Fut>(name: &str, test: F) -> Result<T, Error>
where
    F: FnOnce(Client, String) -> Fut,
    Fut: Future<Output = T>,
{
    let plane = crate::shared()?;
    let client = plane.client().await?;
    let namespace = TestNamespace::create(client.clone(), name).await?;
    let outcome = AssertUnwindSafe(test(client, namespace.name().to_owned()))
        .catch_unwind()
        .await;
    let deleted = namespace.delete().await;
    match outcome {
        Ok(value) => deleted.map(|()| value),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}
