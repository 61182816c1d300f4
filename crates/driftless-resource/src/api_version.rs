//! The parts of an `apiVersion`: `group/version`, or a bare `version` for the core group.

/// Splits an `apiVersion` into its group and version: `apps/v1` → (`apps`, `v1`), `v1` →
/// (``, `v1`).
///
/// ```
/// use driftless_resource::split_api_version;
/// assert_eq!(split_api_version("apps/v1"), ("apps", "v1"));
/// assert_eq!(split_api_version("v1"), ("", "v1"));
/// ```
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The group of an `apiVersion`: `apps/v1` → `apps`, `v1` → `""` (the core group).
pub fn api_group(api_version: &str) -> &str {
    split_api_version(api_version).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_and_version_split_at_the_last_slash() {
        assert_eq!(
            split_api_version("networking.k8s.io/v1"),
            ("networking.k8s.io", "v1")
        );
        assert_eq!(split_api_version("v1"), ("", "v1"));
        assert_eq!(split_api_version(""), ("", ""));
        assert_eq!(api_group("apps/v1beta2"), "apps");
        assert_eq!(api_group("v1"), "");
    }
}
