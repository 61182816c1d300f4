//! Sprig's date functions over a Go-like `time.Time`: `now date dateInZone date_in_zone
//! htmlDate htmlDateInZone unixEpoch dateModify mustDateModify duration durationRound ago`,
//! with Go's layout strings ("2006-01-02 15:04:05"). Go's `Local` zone is taken as UTC (what a
//! container running Helm has).

use std::sync::Arc;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::func::{Func, FuncMap, Param};
use crate::value::{Object, Value};

use Param::{Any, String as Str};

/// A Go `time.Time`: an instant and the zone it is shown in.
#[derive(Debug, Clone)]
pub struct Time {
    ts: Timestamp,
    tz: TimeZone,
}

impl Time {
    /// The instant `ts`, in UTC.
    pub fn utc(ts: Timestamp) -> Self {
        Time {
            ts,
            tz: TimeZone::UTC,
        }
    }

    fn civil(&self) -> jiff::Zoned {
        self.ts.to_zoned(self.tz.clone())
    }

    /// Go's `Format` with a reference layout.
    pub fn format(&self, layout: &str) -> String {
        format_layout(&self.civil(), layout)
    }
}

impl Object for Time {
    fn type_name(&self) -> String {
        "time.Time".into()
    }

    fn field(&self, _name: &str) -> Option<Value> {
        None
    }

    fn method(&self, name: &str) -> Option<Func> {
        let t = self.clone();
        Some(match name {
            "Unix" => Func::new(&[], move |_| Ok(Value::Int64(t.ts.as_second()))),
            "UnixNano" => Func::new(&[], move |_| Ok(Value::Int64(t.ts.as_nanosecond() as i64))),
            "Year" => Func::new(&[], move |_| Ok(Value::Int(i64::from(t.civil().year())))),
            "Day" => Func::new(&[], move |_| Ok(Value::Int(i64::from(t.civil().day())))),
            "Hour" => Func::new(&[], move |_| Ok(Value::Int(i64::from(t.civil().hour())))),
            "Minute" => Func::new(&[], move |_| Ok(Value::Int(i64::from(t.civil().minute())))),
            "Second" => Func::new(&[], move |_| Ok(Value::Int(i64::from(t.civil().second())))),
            "UTC" => Func::new(&[], move |_| Ok(Value::Object(Arc::new(Time::utc(t.ts))))),
            "Format" => Func::new(&[Str], move |a| {
                Ok(Value::str(t.format(a[0].as_str().unwrap_or(""))))
            }),
            "String" => Func::new(&[], move |_| Ok(Value::str(t.format_string()))),
            _ => return None,
        })
    }

    fn format(&self) -> String {
        self.format_string()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Time {
    fn format_string(&self) -> String {
        self.format("2006-01-02 15:04:05.999999999 -0700 MST")
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Go's `Time.Format`: the layout's reference-date chunks replaced by this time's fields.
fn format_layout(z: &jiff::Zoned, layout: &str) -> String {
    let mut out = String::new();
    let b = layout.as_bytes();
    let mut i = 0;
    let year = i64::from(z.year());
    let month = z.month() as usize;
    let day = z.day();
    let hour = z.hour();
    let wd = z.weekday().to_sunday_zero_offset() as usize;
    let offset = z.offset().seconds();
    let abbrev = z
        .time_zone()
        .to_offset_info(z.timestamp())
        .abbreviation()
        .to_string();
    let nanos = z.subsec_nanosecond();
    let starts = |s: &str, at: usize| layout[at..].starts_with(s);
    while i < b.len() {
        let rest = &layout[i..];
        macro_rules! chunk {
            ($s:expr, $v:expr) => {
                if starts($s, i) {
                    out.push_str(AsRef::<str>::as_ref(&$v));
                    i += $s.len();
                    continue;
                }
            };
        }
        match b[i] {
            b'J' => {
                chunk!("January", MONTHS[month - 1].to_string());
                chunk!("Jan", MONTHS[month - 1][..3].to_string());
            }
            b'M' => {
                chunk!("Monday", DAYS[wd].to_string());
                chunk!("Mon", DAYS[wd][..3].to_string());
                chunk!(
                    "MST",
                    if abbrev.is_empty() {
                        fmt_offset(offset, false, false, false)
                    } else {
                        abbrev.clone()
                    }
                );
            }
            b'0' => {
                if rest.len() > 1 && (b'1'..=b'6').contains(&b[i + 1]) {
                    let v = match b[i + 1] {
                        b'1' => format!("{month:02}"),
                        b'2' => format!("{day:02}"),
                        b'3' => format!("{:02}", if hour % 12 == 0 { 12 } else { hour % 12 }),
                        b'4' => format!("{:02}", z.minute()),
                        b'5' => format!("{:02}", z.second()),
                        _ => format!("{:02}", year.rem_euclid(100)),
                    };
                    out.push_str(&v);
                    i += 2;
                    continue;
                }
                chunk!("002", format!("{:03}", z.day_of_year()));
            }
            b'1' => {
                chunk!("15", format!("{hour:02}"));
                chunk!("1", month.to_string());
            }
            b'2' => {
                chunk!("2006", format!("{year:04}"));
                chunk!("2", day.to_string());
            }
            b'_' => {
                chunk!("_2006", format!("_{year:04}"));
                chunk!("__2", format!("{:>3}", z.day_of_year()));
                chunk!("_2", format!("{day:>2}"));
            }
            b'3' => chunk!(
                "3",
                (if hour % 12 == 0 { 12 } else { hour % 12 }).to_string()
            ),
            b'4' => chunk!("4", z.minute().to_string()),
            b'5' => chunk!("5", z.second().to_string()),
            b'P' => chunk!("PM", (if hour >= 12 { "PM" } else { "AM" }).to_string()),
            b'p' => chunk!("pm", (if hour >= 12 { "pm" } else { "am" }).to_string()),
            b'-' | b'Z' => {
                let z_ = b[i] == b'Z';
                let p = if z_ { "Z" } else { "-" };
                let forms: [(&str, bool, bool, bool); 5] = [
                    ("070000", false, true, false),
                    ("07:00:00", true, true, false),
                    ("0700", false, false, false),
                    ("07:00", true, false, false),
                    ("07", false, false, true),
                ];
                let mut hit = false;
                for (f, colon, secs, hours_only) in forms {
                    let full = format!("{p}{f}");
                    if starts(&full, i) {
                        if z_ && offset == 0 {
                            out.push('Z');
                        } else {
                            out.push_str(&fmt_offset(offset, colon, secs, hours_only));
                        }
                        i += full.len();
                        hit = true;
                        break;
                    }
                }
                if hit {
                    continue;
                }
            }
            b'.' | b',' => {
                let digits = rest[1..]
                    .bytes()
                    .take_while(|&c| c == b'0' || c == b'9')
                    .count();
                if digits > 0 {
                    let d0 = rest.as_bytes()[1];
                    let same = rest[1..=digits].bytes().all(|c| c == d0);
                    let after_digit = rest
                        .as_bytes()
                        .get(digits + 1)
                        .is_some_and(u8::is_ascii_digit);
                    if same && !after_digit {
                        let frac = format!("{nanos:09}");
                        let mut f = frac[..digits.min(9)].to_string();
                        if d0 == b'9' {
                            let t = f.trim_end_matches('0').to_string();
                            if !t.is_empty() {
                                out.push(b[i] as char);
                                out.push_str(&t);
                            }
                        } else {
                            while f.len() < digits {
                                f.push('0');
                            }
                            out.push(b[i] as char);
                            out.push_str(&f);
                        }
                        i += digits + 1;
                        continue;
                    }
                }
            }
            _ => {}
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

fn fmt_offset(offset: i32, colon: bool, secs: bool, hours_only: bool) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    let (h, m, s) = (o / 3600, o / 60 % 60, o % 60);
    let mut out = format!("{sign}{h:02}");
    if hours_only {
        return out;
    }
    if colon {
        out.push(':');
    }
    out.push_str(&format!("{m:02}"));
    if secs {
        if colon {
            out.push(':');
        }
        out.push_str(&format!("{s:02}"));
    }
    out
}

/// Go's `time.Duration.String`.
pub fn duration_string(d: i64) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let frac = |u: u64, prec: u32| -> (String, u64) {
        let p = 10u64.pow(prec);
        let f = u % p;
        if f == 0 {
            return (String::new(), u / p);
        }
        let s = format!("{f:0width$}", width = prec as usize);
        (format!(".{}", s.trim_end_matches('0')), u / p)
    };
    let out = if u < 1_000_000_000 {
        let (unit, prec) = if u < 1_000 {
            ("ns", 0)
        } else if u < 1_000_000 {
            ("µs", 3)
        } else {
            ("ms", 6)
        };
        let (f, int) = frac(u, prec);
        format!("{int}{f}{unit}")
    } else {
        let (f, secs) = frac(u, 9);
        u = secs;
        let mut s = format!("{}{f}s", u % 60);
        u /= 60;
        if u > 0 {
            s = format!("{}m{s}", u % 60);
            u /= 60;
            if u > 0 {
                s = format!("{u}h{s}");
            }
        }
        s
    };
    if neg { format!("-{out}") } else { out }
}

/// Go's `time.ParseDuration`.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let orig = s;
    let bad = || format!("time: invalid duration {}", crate::fmt::quote(orig));
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !s.is_empty() {
        let n = s
            .bytes()
            .take_while(|c| c.is_ascii_digit() || *c == b'.')
            .count();
        if n == 0 {
            return Err(bad());
        }
        let num: f64 = s[..n].parse().map_err(|_| bad())?;
        s = &s[n..];
        let u = s
            .bytes()
            .take_while(|c| !c.is_ascii_digit() && *c != b'.')
            .count();
        if u == 0 {
            return Err(format!(
                "time: missing unit in duration {}",
                crate::fmt::quote(orig)
            ));
        }
        let unit = match &s[..u] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            other => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::fmt::quote(other),
                    crate::fmt::quote(orig)
                ));
            }
        };
        total += num * unit;
        s = &s[u..];
    }
    let v = total.round() as i64;
    Ok(if neg { -v } else { v })
}

fn time_of(v: &Value, now: &dyn Fn() -> Timestamp) -> Time {
    match v {
        Value::Object(o) => match o.as_any().and_then(|a| a.downcast_ref::<Time>()) {
            Some(t) => t.clone(),
            None => Time::utc(now()),
        },
        Value::Int(i) | Value::Int64(i) => {
            Time::utc(Timestamp::from_second(*i).unwrap_or(Timestamp::UNIX_EPOCH))
        }
        _ => Time::utc(now()),
    }
}

fn in_zone(t: Time, zone: &str) -> Time {
    let tz = match zone {
        "" | "UTC" | "Local" => TimeZone::UTC,
        z => TimeZone::get(z).unwrap_or(TimeZone::UTC),
    };
    Time { ts: t.ts, tz }
}

/// Registers the date functions with `now` as the clock.
pub(super) fn register(m: &mut FuncMap, now: Arc<dyn Fn() -> Timestamp + Send + Sync>) {
    let mut add = |names: &[&str], f: Func| {
        for n in names {
            m.insert((*n).to_string(), f.clone());
        }
    };
    let n = now.clone();
    add(
        &["now"],
        Func::new(&[], move |_| Ok(Value::Object(Arc::new(Time::utc(n()))))),
    );
    let n = now.clone();
    add(
        &["date"],
        Func::new(&[Str, Any], move |a| {
            Ok(Value::str(
                in_zone(time_of(&a[1], &*n), "Local").format(a[0].as_str().unwrap_or("")),
            ))
        }),
    );
    let n = now.clone();
    add(
        &["dateInZone", "date_in_zone"],
        Func::new(&[Str, Any, Str], move |a| {
            Ok(Value::str(
                in_zone(time_of(&a[1], &*n), a[2].as_str().unwrap_or(""))
                    .format(a[0].as_str().unwrap_or("")),
            ))
        }),
    );
    let n = now.clone();
    add(
        &["htmlDate"],
        Func::new(&[Any], move |a| {
            Ok(Value::str(
                in_zone(time_of(&a[0], &*n), "Local").format("2006-01-02"),
            ))
        }),
    );
    let n = now.clone();
    add(
        &["htmlDateInZone"],
        Func::new(&[Any, Str], move |a| {
            Ok(Value::str(
                in_zone(time_of(&a[0], &*n), a[1].as_str().unwrap_or("")).format("2006-01-02"),
            ))
        }),
    );
    let n = now.clone();
    add(
        &["unixEpoch"],
        Func::new(&[Any], move |a| {
            Ok(Value::str(time_of(&a[0], &*n).ts.as_second().to_string()))
        }),
    );
    let n = now.clone();
    add(
        &["dateModify", "date_modify"],
        Func::new(&[Str, Any], move |a| {
            let t = time_of(&a[1], &*n);
            Ok(match parse_duration(a[0].as_str().unwrap_or("")) {
                Ok(d) => Value::Object(Arc::new(shift(&t, d))),
                Err(_) => Value::Object(Arc::new(t)),
            })
        }),
    );
    let n = now.clone();
    add(
        &["mustDateModify", "must_date_modify"],
        Func::new(&[Str, Any], move |a| {
            let t = time_of(&a[1], &*n);
            let d = parse_duration(a[0].as_str().unwrap_or(""))?;
            Ok(Value::Object(Arc::new(shift(&t, d))))
        }),
    );
    add(
        &["duration"],
        Func::new(&[Any], |a| {
            let secs = match &a[0] {
                Value::String(s) => s.parse::<i64>().unwrap_or(0),
                Value::Int64(i) => *i,
                _ => 0,
            };
            Ok(Value::str(duration_string(
                secs.wrapping_mul(1_000_000_000),
            )))
        }),
    );
    let n = now;
    add(
        &["ago"],
        Func::new(&[Any], move |a| {
            let t = time_of(&a[0], &*n);
            let d = n().as_nanosecond() - t.ts.as_nanosecond();
            let rounded = ((d + 500_000_000).div_euclid(1_000_000_000)) * 1_000_000_000;
            Ok(Value::str(duration_string(rounded as i64)))
        }),
    );
}

fn shift(t: &Time, nanos: i64) -> Time {
    let ts = Timestamp::from_nanosecond(t.ts.as_nanosecond() + i128::from(nanos)).unwrap_or(t.ts);
    Time {
        ts,
        tz: t.tz.clone(),
    }
}
