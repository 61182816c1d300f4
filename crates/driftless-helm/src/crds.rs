//! The files of the charts' `crds/` directories, which `--include-crds` prints as they are.

use crate::chart::Chart;

/// A file of a chart's `crds/` directory, printed as it is (never templated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crd {
    /// `# Source:` name, e.g. `top/charts/sub/crds/a.yaml`.
    pub filename: String,
    /// Content.
    pub data: Vec<u8>,
}

/// The `crds/` files (`.yaml`, `.yml`, `.json`) of `chart` and of its enabled subcharts,
/// the chart's first.
pub fn crd_objects(chart: &Chart) -> Vec<Crd> {
    let mut out = Vec::new();
    collect_crds(chart, chart.name(), &mut out);
    out
}

fn collect_crds(chart: &Chart, full_path: &str, out: &mut Vec<Crd>) {
    for f in &chart.files {
        let manifest = [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| f.name.ends_with(ext));
        if f.name.starts_with("crds/") && manifest {
            out.push(Crd {
                filename: format!("{full_path}/{}", f.name),
                data: f.data.clone(),
            });
        }
    }
    for sub in &chart.dependencies {
        collect_crds(sub, &format!("{full_path}/charts/{}", sub.name()), out);
    }
}
