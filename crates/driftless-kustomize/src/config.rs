//! Transformer configuration files (`configurations:`): extra field specs for the builtin
//! transformers, for custom resources.

use crate::error::Error;
use crate::kustomization::FieldSpec;
use crate::parse::parse_one;
use serde::Deserialize;

/// A `nameReference` entry: a target kind and the fields that refer to it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[allow(missing_docs)]
pub struct NameRefEntry {
    pub kind: String,
    pub group: Option<String>,
    pub version: Option<String>,
    pub field_specs: Vec<FieldSpec>,
}

/// The merged configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[allow(missing_docs)]
pub struct TransformerConfig {
    pub name_reference: Vec<NameRefEntry>,
    pub var_reference: Vec<FieldSpec>,
    pub common_labels: Vec<FieldSpec>,
    pub labels: Vec<FieldSpec>,
    pub common_annotations: Vec<FieldSpec>,
    pub namespace: Vec<FieldSpec>,
    pub name_prefix: Vec<FieldSpec>,
    pub name_suffix: Vec<FieldSpec>,
    pub images: Vec<FieldSpec>,
    pub replicas: Vec<FieldSpec>,
    pub templates: Vec<FieldSpec>,
}

impl TransformerConfig {
    /// Reads a configuration file.
    pub fn parse(text: &str, file: &str) -> Result<Self, Error> {
        let v = parse_one(text, file)?;
        if v.is_null() {
            return Ok(Self::default());
        }
        serde_json::from_value(v)
            .map_err(|e| Error::msg(format!("{file}: invalid transformer configuration: {e}")))
    }

    /// Adds another configuration's entries (duplicates dropped).
    pub fn merge(&mut self, other: Self) {
        fn add(a: &mut Vec<FieldSpec>, b: Vec<FieldSpec>) {
            for f in b {
                if !a.contains(&f) {
                    a.push(f);
                }
            }
        }
        self.name_reference.extend(other.name_reference);
        add(&mut self.var_reference, other.var_reference);
        add(&mut self.common_labels, other.common_labels);
        add(&mut self.labels, other.labels);
        add(&mut self.common_annotations, other.common_annotations);
        add(&mut self.namespace, other.namespace);
        add(&mut self.name_prefix, other.name_prefix);
        add(&mut self.name_suffix, other.name_suffix);
        add(&mut self.images, other.images);
        add(&mut self.replicas, other.replicas);
        add(&mut self.templates, other.templates);
    }
}
