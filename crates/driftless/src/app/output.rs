//! Output formats shared by the `app` commands, and the small words they print: short commits,
//! ages, placeholders.

use clap::ValueEnum;
use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

/// `-o`: a wider table, or the objects themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// More columns (repository, path, target, destination, last sync; full commits).
    Wide,
    /// YAML, as `kubectl get -o yaml` prints it.
    Yaml,
    /// JSON, pretty-printed.
    Json,
}

/// What a missing value prints as, as kubectl does.
pub const NONE: &str = "<none>";

/// Prints `value` as YAML or JSON.
pub fn print_object<T: Serialize>(value: &T, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Yaml => print!("{}", serde_saphyr::to_string(value)?),
        Format::Json | Format::Wide => println!("{}", serde_json::to_string_pretty(value)?),
    }
    Ok(())
}

/// The first 7 characters of a commit id, as `git log --oneline` shows it (all of it when
/// `full`); [`NONE`] for none.
pub fn commit(revision: Option<&str>, full: bool) -> String {
    match revision {
        None | Some("") => NONE.to_owned(),
        Some(revision) if full => revision.to_owned(),
        Some(revision) => revision.chars().take(7).collect(),
    }
}

/// A text or [`NONE`].
pub fn or_none(text: Option<&str>) -> String {
    match text {
        None | Some("") => NONE.to_owned(),
        Some(text) => text.to_owned(),
    }
}

/// How long ago an RFC 3339 time was, like kubectl's AGE column (`45s`, `12m`, `5h`, `3d`);
/// [`NONE`] when missing or unreadable.
pub fn age_of(time: Option<&str>, now: Timestamp) -> String {
    time.and_then(|t| t.parse::<Timestamp>().ok())
        .map_or_else(|| NONE.to_owned(), |t| age(now.as_second() - t.as_second()))
}

/// Seconds as one or two units: `45s`, `5m30s` (under 10 minutes), `12m`, `5h`, `3d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..600 if s % 60 != 0 => format!("{}m{}s", s / 60, s % 60),
        120..10_800 => format!("{}m", s / 60),
        10_800..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(age(-3), "0s");
        assert_eq!(age(45), "45s");
        assert_eq!(age(119), "119s");
        assert_eq!(age(330), "5m30s");
        assert_eq!(age(300), "5m");
        assert_eq!(age(720), "12m");
        assert_eq!(age(5 * 3600), "5h");
        assert_eq!(age(3 * 86_400 + 5), "3d");
    }

    #[test]
    fn ages_of_times_and_of_nothing() {
        let now: Timestamp = "2025-01-01T12:00:00Z".parse().unwrap();
        assert_eq!(age_of(Some("2025-01-01T11:58:00Z"), now), "2m");
        assert_eq!(age_of(Some("yesterday"), now), NONE);
        assert_eq!(age_of(None, now), NONE);
    }

    #[test]
    fn commits_are_shortened_unless_wide() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(commit(Some(id), false), "0123456");
        assert_eq!(commit(Some(id), true), id);
        assert_eq!(commit(None, false), NONE);
        assert_eq!(commit(Some(""), true), NONE);
    }
}
