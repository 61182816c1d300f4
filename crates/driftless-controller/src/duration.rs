//! Go durations as Application and AppProject fields spell them.

use std::time::Duration;

/// A Go duration (`90s`, `1m30s`, `1.5h`, `500ms`), not negative.
pub fn duration(text: &str) -> Result<Duration, String> {
    let parsed: kube::core::Duration = text
        .trim()
        .parse()
        .map_err(|e| format!("{text:?} is not a duration such as 90s, 1m30s or 1h ({e})"))?;
    if parsed.is_negative() {
        return Err(format!("{text:?} is negative"));
    }
    Ok(parsed.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_parse_and_negative_ones_do_not() {
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(duration("soon").is_err());
        assert!(duration("-1s").is_err());
    }
}
