//! The errors of chart loading and values processing.

use std::path::Path;

use crate::helmignore::RuleError;
use crate::strvals::StrvalsError;
use crate::yaml::YamlError;

/// Why a chart could not be loaded or its values computed. Each message is one line and names
/// the file (or chart) concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link leads out of the chart directory, or back into a directory it is in.
    #[error("{path}: a symbolic link that leads out of the chart or into a loop")]
    Escape {
        /// Path relative to the chart.
        path: String,
    },
    /// Not a regular file (a device, a socket...).
    #[error("cannot load irregular file {path} as it has file mode type bits set")]
    Irregular {
        /// Path relative to the chart.
        path: String,
    },
    /// The chart is larger than Helm reads.
    #[error("chart is larger than the maximum size {limit}")]
    TooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A bad `.helmignore` rule.
    #[error("{file}: {source}")]
    Ignore {
        /// The `.helmignore` file.
        file: String,
        /// The rule problem.
        #[source]
        source: RuleError,
    },
    /// A YAML file of the chart, or a values file, does not parse.
    #[error("{file}: {source}")]
    Yaml {
        /// The file.
        file: String,
        /// The parser's message.
        #[source]
        source: YamlError,
    },
    /// An invalid chart (Helm's validation message).
    #[error("{0}")]
    Invalid(String),
    /// A chart archive that cannot be read.
    #[error("chart archive: {0}")]
    Archive(String),
    /// A subchart failed to load.
    #[error("error unpacking subchart {subchart} in {parent}: {source}")]
    Subchart {
        /// The subchart's folder or archive name under `charts/`.
        subchart: String,
        /// The parent chart's name.
        parent: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A subchart's values key holds a non-table (Go's message prints the value with `%t`).
    #[error("type mismatch on {chart}: %!t({found})")]
    TypeMismatch {
        /// The subchart.
        chart: String,
        /// Go's type and value found, e.g. `int64=1`.
        found: String,
    },
    /// Processing the dependencies failed (Helm's wrapping of the cause).
    #[error("chart dependencies processing failed: {0}")]
    Dependencies(#[source] Box<Error>),
    /// The chart is not an application chart (`library charts are not installable`).
    #[error("{0} charts are not installable")]
    NotInstallable(String),
    /// Declared dependencies without a chart under `charts/`.
    #[error("an error occurred while checking for chart dependencies. You may need to run 'helm dependency build' to fetch missing dependencies: found in Chart.yaml, but missing in charts/ directory: {}", .0.join(", "))]
    MissingDependencies(Vec<String>),
    /// The release name is not a valid one.
    #[error("release name check failed: release name {name:?}: {reason}")]
    ReleaseName {
        /// The name given.
        name: String,
        /// Helm's reason.
        reason: String,
    },
    /// A bad `--set`-style expression.
    #[error("failed parsing --{flag} data: {source}")]
    Set {
        /// `set`, `set-string`, `set-json` or `set-file`.
        flag: &'static str,
        /// Helm's message.
        #[source]
        source: StrvalsError,
    },
    /// The values do not meet the chart's `values.schema.json` (Helm's message: the charts
    /// concerned and each violation).
    #[error(
        "values don't meet the specifications of the schema(s) in the following chart(s):\n{0}"
    )]
    Schema(String),
    /// A `values.schema.json` that is not valid JSON or not a valid schema.
    #[error("{chart}: values.schema.json: {message}")]
    BadSchema {
        /// The chart.
        chart: String,
        /// Why.
        message: String,
    },
    /// The chart's `kubeVersion` excludes the Kubernetes version rendered for.
    #[error(
        "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {version}"
    )]
    KubeVersion {
        /// The chart's constraint.
        constraint: String,
        /// The version given.
        version: String,
    },
    /// A bad `--kube-version`.
    #[error("invalid kube version {0:?}")]
    BadKubeVersion(String),
    /// A rendered manifest that is not YAML, as Helm's sorter reports it.
    #[error("YAML parse error on {file}: {message}")]
    Manifest {
        /// The template's name, e.g. `chart/templates/x.yaml`.
        file: String,
        /// The parser's message.
        message: String,
    },
    /// The template engine failed.
    #[error("{0}")]
    Template(String),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
}
