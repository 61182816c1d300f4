//! Sync windows (pure): when a project lets its Applications sync. Argo CD's rules: a window
//! applies to an Application when one of its `applications`, `namespaces` or `clusters` globs
//! matches; inside an active `deny` window, or outside every `allow` window while none is
//! active, automated syncs wait, and a manual sync runs only when every window that blocks it
//! has `manualSync: true`.

use std::time::Duration;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use driftless_api::SyncWindow;
use k8s_openapi::jiff::tz::TimeZone;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// One window, compiled.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    index: usize,
    deny: bool,
    schedule: String,
    cron: Cron,
    duration: SignedDuration,
    zone: TimeZone,
    zone_name: String,
    applications: Vec<globset::GlobMatcher>,
    namespaces: Vec<globset::GlobMatcher>,
    clusters: Vec<globset::GlobMatcher>,
    manual_sync: bool,
}

/// Why syncing is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Blocked {
    /// Which window blocks and until when, for people.
    pub message: String,
    /// How long until the answer may change (a window ends or opens).
    pub until: Option<Duration>,
}

impl Window {
    /// Compiles `spec.syncWindows[index]`, or names the field that is wrong.
    pub fn compile(index: usize, window: &SyncWindow) -> Result<Self, String> {
        let field = |name: &str| format!("spec.syncWindows[{index}].{name}");
        let deny = match window.kind.as_str() {
            "allow" => false,
            "deny" => true,
            other => {
                return Err(format!(
                    "{}: {other:?} is neither allow nor deny",
                    field("kind")
                ));
            }
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(&window.schedule)
            .map_err(|e| {
                format!(
                    "{}: {:?} is not a cron schedule ({e})",
                    field("schedule"),
                    window.schedule
                )
            })?;
        let duration = crate::duration::duration(&window.duration)
            .map_err(|e| format!("{}: {e}", field("duration")))
            .and_then(|d| {
                SignedDuration::try_from(d).map_err(|e| format!("{}: {e}", field("duration")))
            })?;
        if duration.is_zero() {
            return Err(format!("{}: must be longer than 0s", field("duration")));
        }
        let zone_name = window
            .time_zone
            .clone()
            .filter(|z| !z.is_empty())
            .unwrap_or_else(|| "UTC".to_owned());
        let zone = TimeZone::get(&zone_name).map_err(|e| {
            format!(
                "{}: {zone_name:?} is not a time zone ({e})",
                field("timeZone")
            )
        })?;
        let globs = |name: &str, list: &[String]| {
            list.iter()
                .enumerate()
                .map(|(i, text)| {
                    globset::Glob::new(text)
                        .map(|g| g.compile_matcher())
                        .map_err(|e| {
                            format!("{}[{i}]: {text:?} is not a glob: {}", field(name), e.kind())
                        })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Self {
            index,
            deny,
            schedule: window.schedule.clone(),
            cron,
            duration,
            zone,
            zone_name,
            applications: globs("applications", &window.applications)?,
            namespaces: globs("namespaces", &window.namespaces)?,
            clusters: globs("clusters", &window.clusters)?,
            manual_sync: window.manual_sync,
        })
    }

    /// Whether the window applies to the Application `name` deploying to `namespace` of the
    /// cluster `[server, name]`.
    fn applies(&self, name: &str, namespace: &str, cluster: [&str; 2]) -> bool {
        self.applications.iter().any(|g| g.is_match(name))
            || self
                .clusters
                .iter()
                .any(|g| cluster.iter().any(|c| g.is_match(c)))
            || self.namespaces.iter().any(|g| g.is_match(namespace))
    }

    /// When the window that is open at `now` closes, or `None` when it is not open.
    fn open_until(&self, now: Timestamp) -> Option<Timestamp> {
        let here = now.to_zoned(self.zone.clone());
        let start = self.cron.find_previous_occurrence(&here, true).ok()?;
        let end = start.timestamp().checked_add(self.duration).ok()?;
        (end > now).then_some(end)
    }

    /// When the window next opens after `now`.
    fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        let here = now.to_zoned(self.zone.clone());
        let next = self.cron.find_next_occurrence(&here, false).ok()?;
        Some(next.timestamp())
    }

    fn describe(&self) -> String {
        format!(
            "{} window {} ({:?} for {} {})",
            if self.deny { "deny" } else { "allow" },
            self.index,
            self.schedule,
            format_duration(self.duration),
            self.zone_name
        )
    }
}

/// One sync window of a project as of an instant, for people (`driftless proj windows`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowState {
    /// Its index in `spec.syncWindows`.
    pub index: usize,
    /// `allow` or `deny`.
    pub kind: String,
    /// The cron schedule.
    pub schedule: String,
    /// How long it stays open.
    pub duration: String,
    /// The time zone of the schedule.
    pub time_zone: String,
    /// Whether manual syncs may run while it blocks.
    pub manual_sync: bool,
    /// When it closes, if it is open.
    pub open_until: Option<Timestamp>,
    /// When it next opens.
    pub next_open: Option<Timestamp>,
}

/// The state at `now` of every sync window of a project, or the first field that is wrong.
pub fn window_states(windows: &[SyncWindow], now: Timestamp) -> Result<Vec<WindowState>, String> {
    windows
        .iter()
        .enumerate()
        .map(|(index, spec)| {
            let window = Window::compile(index, spec)?;
            Ok(WindowState {
                index,
                kind: spec.kind.clone(),
                schedule: spec.schedule.clone(),
                duration: spec.duration.clone(),
                time_zone: window.zone_name.clone(),
                manual_sync: spec.manual_sync,
                open_until: window.open_until(now),
                next_open: window.next_open(now),
            })
        })
        .collect()
}

/// Whether the Application `name` deploying to `namespace` of the cluster `[server, name]` may
/// sync at `now` under `windows`; `manual` for a sync someone asked for.
pub(crate) fn may_sync(
    windows: &[Window],
    name: &str,
    namespace: &str,
    cluster: [&str; 2],
    now: Timestamp,
    manual: bool,
) -> Result<(), Blocked> {
    let applying: Vec<&Window> = windows
        .iter()
        .filter(|w| w.applies(name, namespace, cluster))
        .collect();
    if applying.is_empty() {
        return Ok(());
    }
    let open: Vec<(&Window, Timestamp)> = applying
        .iter()
        .filter_map(|w| w.open_until(now).map(|end| (*w, end)))
        .collect();
    let denying: Vec<&(&Window, Timestamp)> = open.iter().filter(|(w, _)| w.deny).collect();
    if let Some((first, _)) = denying.first() {
        if manual && denying.iter().all(|(w, _)| w.manual_sync) {
            return Ok(());
        }
        let end = denying.iter().map(|(_, end)| *end).max();
        return Err(Blocked {
            message: format!(
                "{} is active{}",
                first.describe(),
                end.map(|e| format!(" until {e}")).unwrap_or_default()
            ),
            until: end.map(|e| until(now, e)),
        });
    }
    if open.iter().any(|(w, _)| !w.deny) {
        return Ok(());
    }
    let allows: Vec<&&Window> = applying.iter().filter(|w| !w.deny).collect();
    if allows.is_empty() || (manual && allows.iter().all(|w| w.manual_sync)) {
        return Ok(());
    }
    let next = allows.iter().filter_map(|w| w.next_open(now)).min();
    Err(Blocked {
        message: format!(
            "outside every allow window{}",
            next.map(|n| format!("; the next opens at {n}"))
                .unwrap_or_default()
        ),
        until: next.map(|n| until(now, n)),
    })
}

/// From `now` to `then`, at least a second (a requeue).
fn until(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(then.duration_since(now))
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_secs(1))
}

fn format_duration(duration: SignedDuration) -> String {
    let secs = duration.as_secs();
    match (secs / 3600, secs % 3600 / 60, secs % 60) {
        (h, 0, 0) if h > 0 => format!("{h}h"),
        (0, m, 0) if m > 0 => format!("{m}m"),
        (0, 0, s) => format!("{s}s"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCAL: [&str; 2] = [
        crate::local::IN_CLUSTER_SERVER,
        crate::local::IN_CLUSTER_NAME,
    ];

    fn window(kind: &str, schedule: &str, duration: &str, manual: bool) -> SyncWindow {
        SyncWindow {
            kind: kind.to_owned(),
            schedule: schedule.to_owned(),
            duration: duration.to_owned(),
            applications: vec!["*".to_owned()],
            manual_sync: manual,
            ..SyncWindow::default()
        }
    }

    fn compiled(windows: &[SyncWindow]) -> Result<Vec<Window>, String> {
        windows
            .iter()
            .enumerate()
            .map(|(i, w)| Window::compile(i, w))
            .collect()
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn a_deny_window_blocks_automated_syncs_while_it_is_open_and_says_until_when()
    -> Result<(), String> {
        let windows = compiled(&[window("deny", "0 22 * * *", "1h", false)])?;
        let inside = at("2026-12-06T22:30:00Z");
        let blocked = may_sync(&windows, "web", "team-a", LOCAL, inside, false).err();
        let blocked = blocked.ok_or("not blocked")?;
        assert!(
            blocked.message.contains("deny window 0"),
            "{}",
            blocked.message
        );
        assert!(
            blocked.message.contains("2026-12-06T23:00:00Z"),
            "{}",
            blocked.message
        );
        assert_eq!(blocked.until, Some(Duration::from_secs(1800)));
        // A manual sync too, unless manualSync.
        assert!(may_sync(&windows, "web", "team-a", LOCAL, inside, true).is_err());
        let manual = compiled(&[window("deny", "0 22 * * *", "1h", true)])?;
        assert!(may_sync(&manual, "web", "team-a", LOCAL, inside, true).is_ok());
        assert!(may_sync(&manual, "web", "team-a", LOCAL, inside, false).is_err());
        // Before it opens and once it has closed, syncs run.
        assert!(
            may_sync(
                &windows,
                "web",
                "team-a",
                LOCAL,
                at("2026-12-06T21:59:59Z"),
                false
            )
            .is_ok()
        );
        assert!(
            may_sync(
                &windows,
                "web",
                "team-a",
                LOCAL,
                at("2026-12-06T23:00:00Z"),
                false
            )
            .is_ok()
        );
        Ok(())
    }

    #[test]
    fn outside_every_allow_window_automated_syncs_wait_for_the_next_one() -> Result<(), String> {
        let windows = compiled(&[window("allow", "0 9 * * 1-5", "8h", false)])?;
        // Sunday 2026-12-06.
        let sunday = at("2026-12-06T12:00:00Z");
        let blocked = may_sync(&windows, "web", "ns", LOCAL, sunday, false)
            .err()
            .ok_or("not blocked")?;
        assert!(
            blocked.message.contains("2026-12-07T09:00:00Z"),
            "{}",
            blocked.message
        );
        assert!(
            may_sync(
                &windows,
                "web",
                "ns",
                LOCAL,
                at("2026-12-07T16:59:00Z"),
                false
            )
            .is_ok()
        );
        // An active deny window wins over an active allow window.
        let both = compiled(&[
            window("allow", "0 9 * * 1-5", "8h", false),
            window("deny", "0 12 * * *", "1h", false),
        ])?;
        assert!(may_sync(&both, "web", "ns", LOCAL, at("2026-12-07T12:30:00Z"), false).is_err());
        Ok(())
    }

    #[test]
    fn weekdays_count_as_in_cron_and_day_fields_combine_with_or() -> Result<(), String> {
        // 2026-12-06 is a Sunday: 0 and 7 both name it.
        let sunday = at("2026-12-06T12:30:00Z");
        for dow in ["0", "7", "SUN"] {
            let windows = compiled(&[window("deny", &format!("0 12 * * {dow}"), "1h", false)])?;
            assert!(
                may_sync(&windows, "web", "ns", LOCAL, sunday, false).is_err(),
                "{dow}"
            );
        }
        // Day of month 1 or Sunday: Sunday the 6th matches.
        let either = compiled(&[window("deny", "0 12 1 * 0", "1h", false)])?;
        assert!(may_sync(&either, "web", "ns", LOCAL, sunday, false).is_err());
        let monday = compiled(&[window("deny", "0 12 * * 1", "1h", false)])?;
        assert!(may_sync(&monday, "web", "ns", LOCAL, sunday, false).is_ok());
        Ok(())
    }

    #[test]
    fn time_zones_place_the_schedule_on_local_clocks() -> Result<(), String> {
        let mut w = window("deny", "0 22 * * *", "1h", false);
        w.time_zone = Some("Europe/Berlin".to_owned());
        let windows = compiled(&[w])?;
        // 22:00 in Berlin in December is 21:00 UTC.
        assert!(
            may_sync(
                &windows,
                "web",
                "ns",
                LOCAL,
                at("2026-12-06T21:30:00Z"),
                false
            )
            .is_err()
        );
        assert!(
            may_sync(
                &windows,
                "web",
                "ns",
                LOCAL,
                at("2026-12-06T22:30:00Z"),
                false
            )
            .is_ok()
        );
        Ok(())
    }

    #[test]
    fn a_window_applies_only_to_what_its_selectors_match() -> Result<(), String> {
        let mut w = window("deny", "* * * * *", "1h", false);
        w.applications = vec!["billing-*".to_owned()];
        w.namespaces = vec!["prod".to_owned()];
        let windows = compiled(&[w])?;
        let now = at("2026-12-06T12:00:00Z");
        assert!(may_sync(&windows, "billing-api", "dev", LOCAL, now, false).is_err());
        assert!(may_sync(&windows, "web", "prod", LOCAL, now, false).is_err());
        assert!(may_sync(&windows, "web", "dev", LOCAL, now, false).is_ok());
        let mut c = window("deny", "* * * * *", "1h", false);
        c.applications.clear();
        c.clusters = vec!["in-cluster".to_owned()];
        let local_only = compiled(&[c.clone()])?;
        assert!(may_sync(&local_only, "web", "dev", LOCAL, now, false).is_err());
        // Another cluster is matched by its own name or server, not by the local one's (#18).
        let prod = ["https://prod-eu.example:6443", "prod-eu"];
        assert!(may_sync(&local_only, "web", "dev", prod, now, false).is_ok());
        c.clusters = vec!["prod-*".to_owned()];
        assert!(may_sync(&compiled(&[c.clone()])?, "web", "dev", prod, now, false).is_err());
        c.clusters = vec!["https://prod-eu.example:*".to_owned()];
        assert!(may_sync(&compiled(&[c])?, "web", "dev", prod, now, false).is_err());
        Ok(())
    }

    #[test]
    fn window_states_say_which_is_open_until_when_and_when_each_opens_next() -> Result<(), String> {
        let states = window_states(
            &[
                window("deny", "0 22 * * *", "1h", true),
                window("allow", "0 9 * * *", "8h", false),
            ],
            at("2026-12-06T22:30:00Z"),
        )?;
        assert_eq!(states[0].open_until, Some(at("2026-12-06T23:00:00Z")));
        assert_eq!(states[0].next_open, Some(at("2026-12-07T22:00:00Z")));
        assert_eq!(states[1].open_until, None);
        assert_eq!(states[1].next_open, Some(at("2026-12-07T09:00:00Z")));
        assert_eq!(states[1].time_zone, "UTC");
        Ok(())
    }

    #[test]
    fn bad_windows_name_their_field() {
        let cases = [
            (
                window("maybe", "* * * * *", "1h", false),
                "spec.syncWindows[0].kind",
            ),
            (
                window("deny", "61 * * * *", "1h", false),
                "spec.syncWindows[0].schedule",
            ),
            (
                window("deny", "0 0 * * * *", "1h", false),
                "spec.syncWindows[0].schedule",
            ),
            (
                window("deny", "* * * * *", "soon", false),
                "spec.syncWindows[0].duration",
            ),
            (
                SyncWindow {
                    time_zone: Some("Mars/Olympus".to_owned()),
                    ..window("deny", "* * * * *", "1h", false)
                },
                "spec.syncWindows[0].timeZone",
            ),
        ];
        for (w, field) in cases {
            let error = Window::compile(0, &w).err().unwrap_or_default();
            assert!(error.starts_with(field), "{field}: {error}");
        }
    }
}
