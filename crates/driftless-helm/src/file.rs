//! One file of a chart, as Helm holds it.

/// Most bytes Helm reads from one chart directory or archive (its `MaxDecompressedChartSize`).
pub const MAX_CHART_SIZE: u64 = 100 * 1024 * 1024;

/// One file of a chart: its path relative to the chart (`/`-separated) and its bytes (a UTF-8
/// BOM removed, as Helm does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    /// Path relative to the chart, e.g. `templates/deployment.yaml`.
    pub name: String,
    /// Content.
    pub data: Vec<u8>,
}

/// Helm drops a UTF-8 byte order mark at the start of every file it reads.
pub(crate) fn strip_bom(data: Vec<u8>) -> Vec<u8> {
    match data.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => data,
    }
}
