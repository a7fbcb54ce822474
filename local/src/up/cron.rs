//! EventBridge schedule expressions ("Schedule expressions for rules"):
//! `rate(VALUE UNIT)` with minutes, hours or days, and
//! `cron(MINUTES HOURS DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR)` in UTC, with
//! `*`, `?`, lists, ranges and steps, month and weekday names (`1`-`7` is
//! `SUN`-`SAT`). `L`, `W` and `#` are refused with a message (they are not
//! computed locally).
//!
//! Owns: parsing and the next time an expression fires.
//! Must not: sleep or invoke.

use std::time::Duration;

/// A parsed schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Every {
    /// `rate(...)`: every so long, from the start.
    Rate(Duration),
    /// `cron(...)`.
    Cron(Box<Cron>),
}

/// A cron expression's fields, as sets of allowed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// `None` for `?`.
    days: Option<Vec<bool>>,
    months: Vec<bool>,
    /// `None` for `?`; index 1 is Sunday.
    weekdays: Option<Vec<bool>>,
    /// `None` for `*`.
    years: Option<Vec<(i64, i64, i64)>>,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(s: &str, names: &[&str], first: i64) -> Result<i64, String> {
    if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
        return Ok(i as i64 + first);
    }
    s.parse::<i64>()
        .map_err(|_| format!("{s:?} is not a number"))
}

/// The items of one field: (low, high, step).
fn items(field: &str, lo: i64, hi: i64, names: &[&str]) -> Result<Vec<(i64, i64, i64)>, String> {
    if field.contains(['L', 'W', '#'])
        && !names.iter().any(|n| field.to_ascii_uppercase().contains(n))
    {
        return Err(format!("{field:?} uses L, W or #, which up does not compute: use a plain cron field, or --fire"));
    }
    let mut out = Vec::new();
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<i64>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("bad step in {item:?}"))?,
            ),
            None => (item, 1),
        };
        let (a, b) = if range == "*" {
            (lo, hi)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a, names, lo)?, value(b, names, lo)?)
        } else {
            let a = value(range, names, lo)?;
            (a, if item.contains('/') { hi } else { a })
        };
        if a < lo || b > hi || a > b {
            return Err(format!("{item:?} is outside {lo}-{hi}"));
        }
        out.push((a, b, step));
    }
    Ok(out)
}

fn set(field: &str, lo: i64, hi: i64, names: &[&str]) -> Result<Vec<bool>, String> {
    let mut v = vec![false; (hi + 1) as usize];
    for (a, b, step) in items(field, lo, hi, names)? {
        let mut x = a;
        while x <= b {
            v[x as usize] = true;
            x += step;
        }
    }
    Ok(v)
}

fn rate(body: &str) -> Result<Every, String> {
    let (n, unit) = body
        .trim()
        .split_once(' ')
        .ok_or("rate() wants a value and a unit, such as rate(5 minutes)")?;
    let n: u64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("rate({body}): the value must be a positive whole number"))?;
    let secs = match unit.trim().trim_end_matches('s') {
        "minute" => 60,
        "hour" => 3600,
        "day" => 86_400,
        other => {
            return Err(format!(
                "rate({body}): {other:?} is not minute(s), hour(s) or day(s)"
            ))
        }
    };
    Ok(Every::Rate(Duration::from_secs(n * secs)))
}

fn cron(body: &str) -> Result<Every, String> {
    let f: Vec<&str> = body.split_whitespace().collect();
    if f.len() != 6 {
        return Err(format!("cron({body}): EventBridge cron expressions have six fields (minutes hours day-of-month month day-of-week year)"));
    }
    let q = |s: &str| s == "?";
    if q(f[2]) == q(f[4]) {
        return Err(format!(
            "cron({body}): one of day-of-month and day-of-week must be ?"
        ));
    }
    let c = Cron {
        minutes: set(f[0], 0, 59, &[])?,
        hours: set(f[1], 0, 23, &[])?,
        days: if q(f[2]) {
            None
        } else {
            Some(set(f[2], 1, 31, &[])?)
        },
        months: set(f[3], 1, 12, &MONTHS)?,
        weekdays: if q(f[4]) {
            None
        } else {
            Some(set(f[4], 1, 7, &DAYS)?)
        },
        years: if f[5] == "*" {
            None
        } else {
            Some(items(f[5], 1970, 2199, &[])?)
        },
    };
    Ok(Every::Cron(Box::new(c)))
}

/// Parses a schedule expression.
pub fn parse(expr: &str) -> Result<Every, String> {
    let e = expr.trim();
    if let Some(body) = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')) {
        rate(body)
    } else if let Some(body) = e.strip_prefix("cron(").and_then(|b| b.strip_suffix(')')) {
        cron(body)
    } else {
        Err(format!("{expr:?} is neither rate(...) nor cron(...)"))
    }
}

impl Cron {
    fn day_matches(&self, year: i64, month: u32, day: u32, days_since_epoch: i64) -> bool {
        let year_ok = self.years.as_ref().is_none_or(|ys| {
            ys.iter()
                .any(|(a, b, s)| year >= *a && year <= *b && (year - a) % s == 0)
        });
        let weekday = (days_since_epoch + 4).rem_euclid(7) + 1; // 1970-01-01 was a Thursday (5)
        year_ok
            && self.months[month as usize]
            && self.days.as_ref().is_none_or(|d| d[day as usize])
            && self.weekdays.as_ref().is_none_or(|w| w[weekday as usize])
    }

    /// The first minute strictly after `epoch_secs` that the expression
    /// matches (within ten years), as epoch seconds.
    pub fn next_after(&self, epoch_secs: i64) -> Option<i64> {
        let mut t = (epoch_secs.div_euclid(60) + 1) * 60;
        let limit = t + 10 * 366 * 86_400;
        while t < limit {
            let days = t.div_euclid(86_400);
            let at = crate::util::UtcTime::from_epoch_millis((t * 1000) as u64);
            if !self.day_matches(at.year, at.month, at.day, days) {
                t = (days + 1) * 86_400;
                continue;
            }
            if !self.hours[at.hour as usize] {
                t = (t.div_euclid(3600) + 1) * 3600;
                continue;
            }
            if self.minutes[at.minute as usize] {
                return Some(t);
            }
            t += 60;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-07 (a Monday) 02:30:00 UTC, computed by hand: 20,794 days
    // after 1970-01-01, plus 9,000 s.
    const MONDAY_0230: i64 = 20_794 * 86_400 + 9_000;

    fn next(expr: &str, from: i64) -> i64 {
        match parse(expr).expect("parsed") {
            Every::Cron(c) => c.next_after(from).expect("fires"),
            Every::Rate(_) => panic!("a cron"),
        }
    }

    #[test]
    fn rates() {
        assert_eq!(
            parse("rate(1 minute)"),
            Ok(Every::Rate(Duration::from_secs(60)))
        );
        assert_eq!(
            parse("rate(5 minutes)"),
            Ok(Every::Rate(Duration::from_secs(300)))
        );
        assert_eq!(
            parse("rate(2 days)"),
            Ok(Every::Rate(Duration::from_secs(172_800)))
        );
        assert!(parse("rate(0 minutes)").is_err());
        assert!(parse("rate(5 weeks)").is_err());
    }

    #[test]
    fn crons_fire_at_the_next_matching_minute_in_utc() {
        // Every 15 minutes: 02:45.
        assert_eq!(
            next("cron(0/15 * * * ? *)", MONDAY_0230),
            MONDAY_0230 + 15 * 60
        );
        // 10:00 every day.
        assert_eq!(
            next("cron(0 10 * * ? *)", MONDAY_0230),
            20_794 * 86_400 + 36_000
        );
        // 18:00 Monday to Friday, by name: the same Monday.
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", MONDAY_0230),
            20_794 * 86_400 + 64_800
        );
        // Sundays (1) at 00:00: six days later.
        assert_eq!(
            next("cron(0 0 ? * 1 *)", MONDAY_0230),
            (20_794 + 6) * 86_400
        );
        // The first of the month at 12:15: 2027-01-01, 25 days later.
        assert_eq!(
            next("cron(15 12 1 * ? *)", MONDAY_0230),
            (20_794 + 25) * 86_400 + 44_100
        );
        // Only in 2027, in March: 2027-03-01 00:00 is day 20,878.
        assert_eq!(next("cron(0 0 1 MAR ? 2027)", MONDAY_0230), 20_878 * 86_400);
    }

    #[test]
    fn what_is_not_computed_is_refused() {
        assert!(parse("cron(0 10 L * ? *)")
            .expect_err("L")
            .contains("L, W or #"));
        assert!(parse("cron(0 10 ? * 6#3 *)").is_err());
        assert!(parse("cron(0 10 * * * *)")
            .expect_err("both")
            .contains("must be ?"));
        assert!(parse("cron(0 10 * *)")
            .expect_err("fields")
            .contains("six fields"));
        assert!(parse("every day").is_err());
    }
}
