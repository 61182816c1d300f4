//! Helm chart semantics for Driftless, up to the point where templates are executed, and after
//! it: what `helm template` (Helm v4) does around its template engine. Pure: no Kubernetes client,
//! no async runtime, no Git.
//!
//! The pipeline, as [`render`] runs it:
//! 1. [`load_dir`] (or [`load_entries`] / [`load_files`] / [`load_archive`]): the chart and its
//!    subcharts, `.helmignore` applied.
//! 2. [`ValueOptions::merge`]: the user's values (`--values` files, then `--set-json`, `--set`,
//!    `--set-string`, `--set-file`).
//! 3. [`process_dependencies`]: conditions, tags, aliases, `import-values`.
//! 4. [`render_data`]: coalesced values (`.Values`), schema validation, and the top-level data of
//!    every template (`.Chart`, `.Release`, `.Capabilities`, `.Files`, `.Template`).
//! 5. A [`TemplateEngine`] executes the templates: [`NativeEngine`] is Helm's engine on the Go
//!    `text/template` engine of `driftless-template`.
//! 6. [`assemble`]: documents split, hooks apart, install order, `# Source:` headers, CRDs first.
//!
//! Hooks map onto Driftless's sync phases in [`hooks`] (as Argo CD maps Helm's hooks).

mod archive;
mod capabilities;
mod chart;
mod constraint;
mod crds;
mod deps;
mod engine;
mod error;
mod file;
mod files;
mod gomatch;
pub mod helmignore;
pub mod hooks;
mod output;
mod render;
mod schema;
mod shared;
pub mod strvals;
mod table;
mod values;
mod yaml;

pub use archive::archive_files;
pub use capabilities::{Capabilities, HelmVersion, KubeVersion, default_api_versions};
pub use chart::{
    Chart, Dependency, Maintainer, Metadata, load_archive, load_dir, load_entries, load_files,
    metadata_map,
};
pub use constraint::is_compatible_range;
pub use crds::{Crd, crd_objects};
pub use deps::process_dependencies;
pub use engine::NativeEngine;
pub use error::Error;
pub use file::{File, MAX_CHART_SIZE};
pub use files::Files;
pub use output::{Assembled, HookManifest, Manifest, assemble, split_manifests};
pub use render::{
    Release, RenderData, RenderOptions, Scope, Template, TemplateEngine, ValueOptions,
    check_installable, parse_order, render, render_data, validate_release_name,
};
pub use schema::validate_values;
pub use values::{
    GLOBAL_KEY, Values, coalesce_tables_into, coalesce_values, merge_maps, merge_tables_into,
    merge_values, path_value, table, type_name,
};
pub use yaml::{YamlError, go_numbers, values_file};
