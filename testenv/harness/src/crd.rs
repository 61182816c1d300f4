//! Installing a CustomResourceDefinition for a test, once per control plane.

use std::path::Path;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Client;
use kube::api::{Api, PostParams};

use crate::{Error, eventually};

/// How long a new CRD may take to be served on a busy machine.
const ESTABLISHED: Duration = Duration::from_secs(90);

/// Creates `crd` unless it exists (tests of one binary share the control plane) and waits until
/// it is Established and discovery serves its kind in every served version (an Established CRD
/// can be missing from discovery for a moment), so custom resources of it can be created at once
/// and discovery run afterwards finds it.
pub async fn install_crd(client: &Client, crd: &CustomResourceDefinition) -> Result<(), Error> {
    let name = crd.metadata.name.clone().unwrap_or_default();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    match crds.create(&PostParams::default(), crd).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(source) => {
            return Err(Error::Kube {
                what: format!("creating CRD {name}"),
                source: Box::new(source),
            });
        }
    }
    eventually(
        &format!("CRD {name} to be Established"),
        ESTABLISHED,
        || async {
            let crd = crds.get(&name).await.ok()?;
            crd.status?
                .conditions?
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
                .then_some(())
        },
    )
    .await?;
    let plural = &crd.spec.names.plural;
    for version in crd.spec.versions.iter().filter(|v| v.served) {
        let group_version = format!("{}/{}", crd.spec.group, version.name);
        eventually(
            &format!("{plural} in discovery of {group_version}"),
            ESTABLISHED,
            || async {
                let resources = client.list_api_group_resources(&group_version).await.ok()?;
                resources
                    .resources
                    .iter()
                    .any(|r| &r.name == plural)
                    .then_some(())
            },
        )
        .await?;
    }
    Ok(())
}

/// The project's own CRDs, as `deploy/crd.yaml` declares them.
const PROJECT_CRDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/crd.yaml");

/// Installs every CRD of `deploy/crd.yaml` (Driftless's own resources) with [`install_crd`].
pub async fn install_project_crds(client: &Client) -> Result<(), Error> {
    let path = Path::new(PROJECT_CRDS);
    let yaml = std::fs::read_to_string(path).map_err(|source| Error::Io {
        what: format!("reading {}", path.display()),
        source,
    })?;
    let crds =
        serde_saphyr::from_multiple::<CustomResourceDefinition>(&yaml).map_err(|e| Error::Io {
            what: format!("reading {}", path.display()),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
        })?;
    for crd in &crds {
        install_crd(client, crd).await?;
    }
    Ok(())
}
