//! Checks over a whole set of manifests.

use std::collections::HashMap;

use crate::{Manifest, Provenance, ResourceKey};

/// Two manifests declare the same object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("duplicate object {key}: declared at {first} and at {second}")]
pub struct DuplicateObject {
    /// The object declared twice.
    pub key: ResourceKey,
    /// The first declaration, in the order given.
    pub first: Provenance,
    /// The second declaration.
    pub second: Provenance,
}

/// Fails on the first object declared twice, naming both places.
pub fn ensure_unique(manifests: &[Manifest]) -> Result<(), Box<DuplicateObject>> {
    let mut seen: HashMap<&ResourceKey, &Provenance> = HashMap::with_capacity(manifests.len());
    for manifest in manifests {
        if let Some(first) = seen.insert(manifest.key(), manifest.provenance()) {
            return Err(Box::new(DuplicateObject {
                key: manifest.key().clone(),
                first: first.clone(),
                second: manifest.provenance().clone(),
            }));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_manifests;

    #[test]
    fn same_object_in_two_files_names_both() -> Result<(), Box<dyn std::error::Error>> {
        let doc = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
        let mut all = parse_manifests("a.yaml", doc)?;
        all.extend(parse_manifests(
            "b/c.yaml",
            &[b"---\n".as_slice(), doc].concat(),
        )?);
        let err = ensure_unique(&all).err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "duplicate object /ConfigMap//x: declared at a.yaml:1 (document 0) and at b/c.yaml:2 (document 0)"
            )
        );
        Ok(())
    }

    #[test]
    fn same_name_in_other_namespace_or_kind_is_fine() -> Result<(), Box<dyn std::error::Error>> {
        let docs = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: x}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: other}\n";
        let all = parse_manifests("a.yaml", docs)?;
        assert_eq!(all.len(), 3);
        assert_eq!(ensure_unique(&all), Ok(()));
        Ok(())
    }
}
