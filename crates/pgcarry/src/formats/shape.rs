//! The written form of a value, apart from the value itself: a timestamp's digits masked
//! (`9999-99-99T99:99:99.999Z`, the zone kept as written), a boolean's spelling, a UUID's case.
//! The scan notes the forms a column uses, the migration records them, and `export` writes
//! values back in the same form, so a round trip gives back the source's bytes.

/// The most forms a column keeps: beyond, its form is "mixed".
pub const MAX_FORMS: usize = 8;

/// Writes the form of a date, time or timestamp text into `out`: digits of the date and time
/// as `9`, the zone suffix (`Z`, `+02:00`, ` +00:00`) as written.
pub fn datetime_form(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let zone_from = if text.get(4) == Some(&b'-') { 10 } else { 1 };
    let mut zone = text.len();
    for i in zone_from..text.len() {
        let c = text[i];
        let next = text.get(i + 1).copied();
        if matches!(c, b'Z' | b'z' | b'+')
            || (c == b'-' && i >= zone_from)
            || (c == b' ' && matches!(next, Some(b'+' | b'-')))
        {
            zone = i;
            break;
        }
    }
    out.extend(
        text[..zone]
            .iter()
            .map(|&c| if c.is_ascii_digit() { b'9' } else { c }),
    );
    out.extend_from_slice(&text[zone..]);
}

/// The case of a UUID text: `A` when it has upper-case hex letters only, else `a`.
pub fn uuid_form(text: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let upper = text.iter().any(u8::is_ascii_uppercase);
    let lower = text.iter().any(u8::is_ascii_lowercase);
    out.push(if upper && !lower { b'A' } else { b'a' });
    if text.len() == 32 {
        out.push(b'-');
    }
}

/// Adds `form` to `forms` unless it is there; false when there is no room left.
pub fn note(forms: &mut Vec<String>, form: &[u8]) -> bool {
    if forms.iter().any(|f| f.as_bytes() == form) {
        return true;
    }
    if forms.len() >= MAX_FORMS {
        return false;
    }
    forms.push(String::from_utf8_lossy(form).into_owned());
    true
}

/// `text` (a timestamp PostgreSQL's form gives, `YYYY-MM-DD HH:MM:SS[.ffffff]`, with the
/// instant already in the zone `form` names) written in `form`, when its digits fit.
pub fn write_datetime(value: &str, form: &str) -> Option<String> {
    // Split the value and the form into their date/time digits and the rest.
    let digits: Vec<u8> = value.bytes().filter(u8::is_ascii_digit).collect();
    let zone_at = form.find(['Z', 'z', '+']).or_else(|| {
        form.char_indices()
            .skip(10)
            .find(|(_, c)| *c == '-')
            .map(|(i, _)| i)
    });
    let core = match zone_at {
        Some(i) => &form[..i],
        None => form,
    };
    let core = core.trim_end_matches(' ');
    let zone = &form[core.len()..];
    let slots = core.bytes().filter(|&b| b == b'9').count();
    // Only trailing fraction zeros may be dropped; missing digits are zeros.
    if digits.len() > slots && digits[slots..].iter().any(|&d| d != b'0') {
        return None;
    }
    let mut it = digits.iter().copied().chain(std::iter::repeat(b'0'));
    let mut out: String = core
        .bytes()
        .map(|b| if b == b'9' { it.next().unwrap_or(b'0') } else { b } as char)
        .collect();
    out.push_str(zone);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(t: &str) -> String {
        let mut out = Vec::new();
        datetime_form(t.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn forms_mask_digits_and_keep_the_zone() {
        assert_eq!(form("2024-01-02T03:04:05.123Z"), "9999-99-99T99:99:99.999Z");
        assert_eq!(
            form("2024-01-02 03:04:05 +02:00"),
            "9999-99-99 99:99:99 +02:00"
        );
        assert_eq!(
            form("2024-01-02 03:04:05-05:00"),
            "9999-99-99 99:99:99-05:00"
        );
        assert_eq!(form("2024-01-02"), "9999-99-99");
        assert_eq!(form("10:00:00.5"), "99:99:99.9");
    }

    #[test]
    fn values_are_written_back_in_their_form() {
        assert_eq!(
            write_datetime("2024-01-02 03:04:05.5", "9999-99-99T99:99:99.999Z").as_deref(),
            Some("2024-01-02T03:04:05.500Z")
        );
        assert_eq!(
            write_datetime("2024-01-02 03:04:05", "9999-99-99 99:99:99 +00:00").as_deref(),
            Some("2024-01-02 03:04:05 +00:00")
        );
        assert_eq!(
            write_datetime("2024-01-02 00:00:00", "9999-99-99").as_deref(),
            Some("2024-01-02")
        );
        assert_eq!(
            write_datetime("2024-01-02 03:04:05.123456", "9999-99-99 99:99:99.999"),
            None,
            "a value with more digits than the form keeps is not cut"
        );
    }
}
