//! Days since 1970-01-01 as a calendar date (proleptic Gregorian, UTC).
//!
//! Owns: the one civil-date conversion of the project. The adapter's log
//! timestamps use it, and portside-local compiles this same file into its
//! own crate (`#[path]` in `local/src/util.rs`), because the local tool
//! links none of the adapter's code: one home, two users.
//! Must not: depend on anything (it is compiled in both crates as it is).

/// The date `days` after 1970-01-01: `(year, month 1–12, day 1–31)`.
///
/// The era is shifted to start in March, so that a leap day falls at the
/// end of a 400-year cycle's year (Howard Hinnant's `civil_from_days`,
/// written out here from its description).
pub fn date_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::date_from_days;

    #[test]
    fn known_days() {
        // Expected dates from the calendar: day 0, the first leap day of a
        // century divisible by 400, a day before the epoch, a far date.
        assert_eq!(date_from_days(0), (1970, 1, 1));
        assert_eq!(date_from_days(11_016), (2000, 2, 29));
        assert_eq!(date_from_days(11_017), (2000, 3, 1));
        assert_eq!(date_from_days(-1), (1969, 12, 31));
        assert_eq!(date_from_days(18_325), (2020, 3, 4));
        assert_eq!(date_from_days(47_541), (2100, 3, 1));
    }
}
