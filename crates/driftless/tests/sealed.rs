//! `driftless seal` against the real sealed-secrets controller (#17 item 5): the controller
//! (built by `testenv/build`) runs against the test control plane; what `driftless seal --cert`
//! produces for each scope is unsealed into the expected Secret, and a strict SealedSecret
//! applied under another name is refused (no Secret appears).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use driftless_testenv::{SealedSecretsController, TestNamespace, install_crd};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DynamicObject, ListParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Polls `check` until it yields a value (a condition, not a fixed delay), for at most a minute.
async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = check().await {
            return Ok(v);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn seal(input: &Path, cert: &Path, extra: &[&str]) -> Result<DynamicObject> {
    let out = Command::new(env!("CARGO_BIN_EXE_driftless"))
        .arg("seal")
        .arg(input)
        .arg("--cert")
        .arg(cert)
        .arg("--json")
        .args(extra)
        .output()?;
    if !out.status.success() {
        return Err(format!("seal failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_controller_unseals_each_scope_and_refuses_a_moved_strict_secret() -> Result {
    let plane = driftless_testenv::shared()?;
    let client = plane.client().await?;
    let dir = driftless_testenv::reference_sealed_secrets()?;
    let crd: CustomResourceDefinition =
        serde_saphyr::from_str(&std::fs::read_to_string(dir.join("crd.yaml"))?)?;
    install_crd(&client, &crd).await?;
    let keys = TestNamespace::create(client.clone(), "sealed-keys").await?;
    let ns = TestNamespace::create(client.clone(), "sealed").await?;
    let work = tempfile::tempdir()?;
    let mut controller = SealedSecretsController::start(plane, keys.name(), work.path())?;

    let key_secrets: Api<Secret> = Api::namespaced(client.clone(), keys.name());
    let cert = wait_for("the controller's key Secret", || {
        let api = key_secrets.clone();
        async move {
            let list = api
                .list(&ListParams::default().labels("sealedsecrets.bitnami.com/sealed-secrets-key"))
                .await
                .ok()?;
            list.items
                .into_iter()
                .find_map(|s| s.data?.get("tls.crt").map(|b| b.0.clone()))
        }
    })
    .await;
    let cert = match cert {
        Ok(c) => c,
        Err(e) => {
            controller.check_running()?;
            return Err(format!(
                "{e}: {}",
                driftless_testenv::process::log_tail(controller.log())
            )
            .into());
        }
    };
    let cert_file = work.path().join("cert.pem");
    std::fs::write(&cert_file, &cert)?;

    let gvk = GroupVersionKind::gvk("bitnami.com", "v1alpha1", "SealedSecret");
    let resource = ApiResource::from_gvk_with_plural(&gvk, "sealedsecrets");
    let sealed_api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns.name(), &resource);
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns.name());

    // Each scope: seal for `name`, apply as `applied`, expect the Secret's value.
    for (scope, name, applied) in [
        ("strict", "strict-one", "strict-one"),
        ("namespace-wide", "ns-one", "ns-renamed"),
        ("cluster-wide", "cw-one", "cw-renamed"),
    ] {
        let input = work.path().join(format!("{name}.yaml"));
        std::fs::write(
            &input,
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {}\ntype: Opaque\nstringData:\n  password: value-of-{scope}\n",
                ns.name()
            ),
        )?;
        let mut sealed = seal(&input, &cert_file, &["--scope", scope])?;
        sealed.metadata.name = Some(applied.to_string());
        sealed.metadata.namespace = Some(ns.name().to_string());
        if let Some(t) = sealed.data.pointer_mut("/spec/template/metadata") {
            t["name"] = applied.into();
        }
        sealed_api.create(&PostParams::default(), &sealed).await?;
        let value = wait_for(&format!("Secret {applied} ({scope})"), || {
            let api = secrets.clone();
            async move {
                let s = api.get_opt(applied).await.ok()??;
                s.data?.get("password").map(|b| b.0.clone())
            }
        })
        .await;
        let value = match value {
            Ok(v) => v,
            Err(e) => {
                return Err(format!(
                    "{e}: {}",
                    driftless_testenv::process::log_tail(controller.log())
                )
                .into());
            }
        };
        assert_eq!(value, format!("value-of-{scope}").into_bytes(), "{scope}");
    }

    // Strict, applied under another name: the controller refuses it.
    let input = work.path().join("moved.yaml");
    std::fs::write(
        &input,
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: original\n  namespace: {}\nstringData:\n  password: moved\n",
            ns.name()
        ),
    )?;
    let mut sealed = seal(&input, &cert_file, &[])?;
    sealed.metadata.name = Some("moved".into());
    if let Some(t) = sealed.data.pointer_mut("/spec/template/metadata") {
        t["name"] = "moved".into();
    }
    sealed_api.create(&PostParams::default(), &sealed).await?;
    let message = wait_for("the moved SealedSecret's Synced=False", || {
        let api = sealed_api.clone();
        async move {
            let s = api.get("moved").await.ok()?;
            let conditions = s.data.pointer("/status/conditions")?.as_array()?.clone();
            conditions.into_iter().find_map(|c| {
                (c["type"] == "Synced" && c["status"] == "False")
                    .then(|| c["message"].as_str().unwrap_or("").to_string())
            })
        }
    })
    .await?;
    assert!(message.contains("decrypt"), "{message}");
    assert!(secrets.get_opt("moved").await?.is_none());
    controller.check_running()?;
    ns.delete().await?;
    keys.delete().await?;
    Ok(())
}
