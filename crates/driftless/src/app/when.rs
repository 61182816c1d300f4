//! `--at TIME`: a moment as people write it, and the history entry that was live then.
//!
//! Accepted forms (the zone is the machine's unless the text names one):
//! - RFC 3339 with a zone: `2026-12-01T14:00Z`, `2026-12-01T14:00:00+01:00`;
//! - a civil date and time: `2026-12-01 14:00`, `2026-12-01T14:00`, `2026-12-01` (midnight);
//! - relative to now: `-3d`, `-12h`, `-90m`, `-2w`, `-30s`, and `now`;
//! - a day and a time: `today 14:00`, `yesterday 09:30`, `tuesday 14:00` and `last tuesday
//!   14:00` (the latest Tuesday before today), the time optional (midnight).

use driftless_api::HistoryEntry;
use k8s_openapi::jiff::civil::{Date, DateTime, Time, Weekday};
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{Span, Timestamp, ToSpan as _, Zoned};

/// The moment `text` names, read at `now` in `now`'s zone.
///
/// # Errors
/// A one-line message that quotes the text and lists the accepted forms.
pub fn moment(text: &str, now: &Zoned) -> Result<Timestamp, String> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let invalid = || {
        format!(
            "--at {text:?}: not a time; use 2026-12-01T14:00Z, \"2026-12-01 14:00\" (local), -3d, -12h, \"yesterday 09:00\" or \"last tuesday 14:00\""
        )
    };
    if lower == "now" {
        return Ok(now.timestamp());
    }
    if let Some(ago) = lower.strip_prefix('-') {
        let span = relative(ago).ok_or_else(invalid)?;
        return now
            .checked_sub(span)
            .map(|z| z.timestamp())
            .map_err(|_| invalid());
    }
    if let Ok(timestamp) = trimmed.parse::<Timestamp>() {
        return Ok(timestamp);
    }
    let zone = now.time_zone().clone();
    if let Ok(civil) = trimmed.replacen(' ', "T", 1).parse::<DateTime>() {
        return local(civil, &zone).ok_or_else(invalid);
    }
    if let Ok(date) = trimmed.parse::<Date>() {
        return local(date.to_datetime(Time::midnight()), &zone).ok_or_else(invalid);
    }
    let mut words = lower.split_whitespace().peekable();
    let last = words.next_if_eq(&"last").is_some();
    let day = words.next().ok_or_else(invalid)?;
    let time = match words.next() {
        Some(time) => time.parse::<Time>().map_err(|_| invalid())?,
        None => Time::midnight(),
    };
    if words.next().is_some() {
        return Err(invalid());
    }
    let today = now.date();
    let date = match (day, last) {
        ("today", false) => today,
        ("yesterday", false) => today.yesterday().map_err(|_| invalid())?,
        (name, _) => {
            let weekday = weekday(name).ok_or_else(invalid)?;
            // The latest such day before today ("tuesday" on a Tuesday is a week ago, as
            // "last tuesday" is).
            let mut date = today.yesterday().map_err(|_| invalid())?;
            while date.weekday() != weekday {
                date = date.yesterday().map_err(|_| invalid())?;
            }
            date
        }
    };
    local(date.to_datetime(time), &zone).ok_or_else(invalid)
}

/// `3d`, `12h`, `90m`, `2w`, `30s`.
fn relative(text: &str) -> Option<Span> {
    let unit = text.chars().last()?;
    let count: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if count < 0 {
        return None;
    }
    match unit {
        's' => Some(count.seconds()),
        'm' => Some(count.minutes()),
        'h' => Some(count.hours()),
        'd' => Some(count.days()),
        'w' => Some(count.weeks()),
        _ => None,
    }
}

fn weekday(name: &str) -> Option<Weekday> {
    let days = [
        ("monday", Weekday::Monday),
        ("tuesday", Weekday::Tuesday),
        ("wednesday", Weekday::Wednesday),
        ("thursday", Weekday::Thursday),
        ("friday", Weekday::Friday),
        ("saturday", Weekday::Saturday),
        ("sunday", Weekday::Sunday),
    ];
    let name = name.trim_end_matches(',');
    days.iter()
        .find(|(full, _)| *full == name || (name.len() >= 3 && full.starts_with(name)))
        .map(|(_, day)| *day)
}

fn local(civil: DateTime, zone: &TimeZone) -> Option<Timestamp> {
    civil.to_zoned(zone.clone()).ok().map(|z| z.timestamp())
}

/// The history entry that was live at `at`: the last one deployed at or before it.
///
/// # Errors
/// No history, or `at` before the first known deployment (the message names it).
pub fn live_at(history: &[HistoryEntry], at: Timestamp) -> Result<&HistoryEntry, String> {
    let mut dated: Vec<(Timestamp, &HistoryEntry)> = history
        .iter()
        .filter_map(|entry| Some((entry.deployed_at.parse::<Timestamp>().ok()?, entry)))
        .collect();
    dated.sort_by_key(|(when, entry)| (*when, entry.id));
    let Some((first_at, first)) = dated.first() else {
        return Err("no history yet".to_owned());
    };
    dated
        .iter()
        .rev()
        .find(|(when, _)| *when <= at)
        .map(|(_, entry)| *entry)
        .ok_or_else(|| {
            format!(
                "{at} is before the first known deployment: history entry {} (commit {}) at {first_at}",
                first.id, first.revision
            )
        })
}

/// The oldest entry of `history`, when `at` is before it was deployed and older entries were
/// dropped: the moment is older than what the history keeps. Ids count from 1, so an oldest
/// entry with id 1 is the first deployment, and nothing was live before it.
pub fn before_first(history: &[HistoryEntry], at: Timestamp) -> Option<&HistoryEntry> {
    history
        .iter()
        .filter_map(|entry| Some((entry.deployed_at.parse::<Timestamp>().ok()?, entry)))
        .min_by_key(|(when, entry)| (*when, entry.id))
        .filter(|(when, entry)| at < *when && entry.id > 1)
        .map(|(_, entry)| entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thursday 2026-12-03 10:30 in Berlin (09:30 UTC).
    fn now() -> Zoned {
        "2026-12-03T10:30:00+01:00[Europe/Berlin]"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(text: &str) -> Result<String, String> {
        moment(text, &now()).map(|t| t.to_string())
    }

    #[test]
    fn every_form_names_one_moment_in_the_right_zone() {
        assert_eq!(at("2026-12-01T14:00Z"), Ok("2026-12-01T14:00:00Z".into()));
        assert_eq!(
            at("2026-12-01T14:00:00+05:00"),
            Ok("2026-12-01T09:00:00Z".into())
        );
        // Civil times are the machine's zone (here Berlin, UTC+1 in December).
        assert_eq!(at("2026-12-01 14:00"), Ok("2026-12-01T13:00:00Z".into()));
        assert_eq!(at("2026-12-01T14:00"), Ok("2026-12-01T13:00:00Z".into()));
        assert_eq!(at("2026-12-01"), Ok("2026-11-30T23:00:00Z".into()));
        assert_eq!(at("now"), Ok("2026-12-03T09:30:00Z".into()));
        assert_eq!(at("-3d"), Ok("2026-11-30T09:30:00Z".into()));
        assert_eq!(at("-90m"), Ok("2026-12-03T08:00:00Z".into()));
        assert_eq!(at("-1w"), Ok("2026-11-26T09:30:00Z".into()));
        assert_eq!(at("today 08:00"), Ok("2026-12-03T07:00:00Z".into()));
        assert_eq!(at("yesterday 09:30"), Ok("2026-12-02T08:30:00Z".into()));
        assert_eq!(at("last tuesday 14:00"), Ok("2026-12-01T13:00:00Z".into()));
        assert_eq!(at("Tuesday 14:00"), Ok("2026-12-01T13:00:00Z".into()));
        // Today is Thursday: "thursday" is a week ago.
        assert_eq!(at("last thu"), Ok("2026-11-25T23:00:00Z".into()));
    }

    #[test]
    fn what_is_not_a_time_says_what_is() {
        for bad in [
            "",
            "soon",
            "-3x",
            "--3d",
            "last",
            "tuesday 25:00",
            "next tuesday",
            "today 1 2",
        ] {
            let error = at(bad).err().unwrap_or_else(|| panic!("{bad:?} parsed"));
            assert!(
                error.starts_with(&format!("--at {bad:?}: not a time; use ")),
                "{error}"
            );
        }
    }

    fn entry(id: i64, deployed_at: &str) -> HistoryEntry {
        HistoryEntry {
            id,
            revision: format!("rev{id}"),
            deployed_at: deployed_at.to_owned(),
            initiated_by: None,
            source: None,
        }
    }

    #[test]
    fn the_live_entry_is_the_last_deployed_by_then() {
        let history = [
            entry(3, "2026-12-02T12:00:00Z"),
            entry(1, "2026-11-30T12:00:00Z"),
            entry(2, "2026-12-01T12:00:00Z"),
        ];
        let live =
            |t: &str| live_at(&history, t.parse().unwrap_or_else(|e| panic!("{e}"))).map(|e| e.id);
        assert_eq!(live("2026-12-01T11:59:59Z"), Ok(1));
        assert_eq!(live("2026-12-01T12:00:00Z"), Ok(2));
        assert_eq!(live("2026-12-09T00:00:00Z"), Ok(3));
        assert_eq!(
            live("2026-11-01T00:00:00Z"),
            Err("2026-11-01T00:00:00Z is before the first known deployment: history entry 1 (commit rev1) at 2026-11-30T12:00:00Z".into())
        );
        assert_eq!(
            live_at(&[], Timestamp::UNIX_EPOCH).map(|e| e.id),
            Err("no history yet".into())
        );
        let before = |t: &str| {
            before_first(&history, t.parse().unwrap_or_else(|e| panic!("{e}"))).map(|e| e.id)
        };
        // Entry 1 is the first deployment: nothing before it to infer.
        assert_eq!(before("2026-11-30T11:59:59Z"), None);
        let kept = [
            entry(7, "2026-12-02T12:00:00Z"),
            entry(6, "2026-12-01T12:00:00Z"),
        ];
        let before = |t: &str| {
            before_first(&kept, t.parse().unwrap_or_else(|e| panic!("{e}"))).map(|e| e.id)
        };
        assert_eq!(before("2026-12-01T11:59:59Z"), Some(6));
        assert_eq!(before("2026-12-01T12:00:00Z"), None);
        assert_eq!(before_first(&[], Timestamp::UNIX_EPOCH).map(|e| e.id), None);
    }
}
