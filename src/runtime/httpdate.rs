//! HTTP-dates (RFC 9110 §5.6.7), for `Retry-After`: the IMF-fixdate form servers send
//! (`Sun, 06 Nov 1994 08:49:37 GMT`), and the obsolete RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`)
//! and asctime (`Sun Nov  6 08:49:37 1994`) forms recipients must accept.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The instant an HTTP-date names, or `None` when the text is not one. Years run from 1970 to
/// 9999, so no date can overflow a `SystemTime`.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    let words: Vec<&str> = text.split_ascii_whitespace().collect();
    let (day, month, year, time) = match words.as_slice() {
        // IMF-fixdate: "Sun," "06" "Nov" "1994" "08:49:37" "GMT"
        [wd, d, m, y, t, "GMT"] if wd.ends_with(',') => (*d, *m, (*y).to_string(), *t),
        // RFC 850: "Sunday," "06-Nov-94" "08:49:37" "GMT"
        [wd, dmy, t, "GMT"] if wd.ends_with(',') => {
            let mut parts = dmy.split('-');
            let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || y.len() != 2 {
                return None;
            }
            // Two-digit years: RFC 9110 says to read a year more than 50 years ahead as past.
            let yy: u32 = y.parse().ok()?;
            let year = if yy < 70 { 2000 + yy } else { 1900 + yy };
            (d, m, year.to_string(), *t)
        }
        // asctime: "Sun" "Nov" "6" "08:49:37" "1994"
        [_, m, d, t, y] => (*d, *m, (*y).to_string(), *t),
        _ => return None,
    };
    let day: u32 = number(day, 1, 2)?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year: u32 = number(&year, 4, 4)?;
    let mut hms = time.split(':');
    let (h, mi, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, mi, s): (u32, u32, u32) = (number(h, 2, 2)?, number(mi, 2, 2)?, number(s, 2, 2)?);
    if !(1970..=9999).contains(&year)
        || day == 0
        || day > days_in_month(year, month)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + u64::from(h * 3600 + mi * 60 + s);
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// The instant an RFC 3339 UTC timestamp names (`2014-10-02T15:01:23Z`, with optional fractional
/// seconds, as Google's APIs send `google.protobuf.Timestamp`), or `None`.
pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let body = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (date, time) = body.split_once(['T', 't'])?;
    let mut ymd = date.split('-');
    let (y, m, d) = (ymd.next()?, ymd.next()?, ymd.next()?);
    if ymd.next().is_some() {
        return None;
    }
    let (year, month, day): (u32, u32, u32) =
        (number(y, 4, 4)?, number(m, 2, 2)?, number(d, 2, 2)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let mut parts = hms.split(':');
    let (h, mi, s) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (h, mi, s): (u32, u32, u32) = (number(h, 2, 2)?, number(mi, 2, 2)?, number(s, 2, 2)?);
    if !(1970..=9999).contains(&year)
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + u64::from(h * 3600 + mi * 60 + s);
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// A decimal number of `min..=max` digits.
fn number<T: std::str::FromStr>(s: &str, min: usize, max: usize) -> Option<T> {
    ((min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date from 1970 on (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: u32, m: u32, d: u32) -> u64 {
    let y = u64::from(if m <= 2 { y - 1 } else { y });
    let era = y / 400;
    let yoe = y - era * 400;
    let m = u64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + u64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> Option<u64> {
        parse(text).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs())
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(secs("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(secs("Sunday, 06-Nov-94 08:49:37 GMT"), Some(784_111_777));
        assert_eq!(secs("Sun Nov  6 08:49:37 1994"), Some(784_111_777));
        assert_eq!(secs("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(secs("Tue, 29 Feb 2000 12:00:00 GMT"), Some(951_825_600));
        assert!(parse("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
    }

    #[test]
    fn rfc3339_timestamps() {
        let at =
            |t: &str| parse_rfc3339(t).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_secs());
        assert_eq!(at("1994-11-06T08:49:37Z"), Some(784_111_777));
        assert_eq!(at("1994-11-06T08:49:37.123456789Z"), Some(784_111_777));
        for bad in [
            "",
            "1994-11-06",
            "1994-11-06T08:49:37",
            "1994-13-06T08:49:37Z",
            "1994-02-30T00:00:00Z",
            "1994-11-06T08:49:37.x1Z",
            "1994-11-06T08:49:37+01:00",
            "99999-11-06T08:49:37Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "120",
            "-5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 PST",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, 06 Nov 99999 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Xyz 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37:01 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
