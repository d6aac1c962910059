//! One Nagios plugin line and its status: OK (0), WARNING (1) for warnings, CRITICAL (2) for
//! errors; info findings never raise the status. (UNKNOWN, 3, is for a run that could not
//! check: the command line says it.)

use crate::doctor::DoctorReport;
use crate::doctor::finding::Level;

/// The line (with performance data) and the plugin's exit code.
pub fn render(report: &DoctorReport) -> (String, u8) {
    let (errors, warnings, info) = report.counts();
    let (word, code, level) = if errors > 0 {
        ("CRITICAL", 2, Level::Error)
    } else if warnings > 0 {
        ("WARNING", 1, Level::Warning)
    } else {
        ("OK", 0, Level::Info)
    };
    let mut keys: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.level == level && code > 0)
        .map(|f| f.key.as_str())
        .collect();
    let more = keys.len().saturating_sub(5);
    keys.truncate(5);
    let mut what = keys.join(", ");
    if more > 0 {
        what.push_str(&format!(" and {more} more"));
    }
    if !what.is_empty() {
        what = format!(": {what}");
    }
    let line = format!(
        "PGCARRY DOCTOR {word} - {errors} error(s), {warnings} warning(s), {info} info{what} \
         | errors={errors};;;0 warnings={warnings};;;0 info={info};;;0"
    );
    (line.replace('\n', " "), code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::finding::{Category, Finding};

    fn report(levels: &[Level]) -> DoctorReport {
        DoctorReport {
            version: 1,
            target: String::new(),
            server_version: String::new(),
            role: String::new(),
            findings: levels
                .iter()
                .enumerate()
                .map(|(i, l)| Finding::new("c", *l, Category::Keys, format!("o{i}"), "d"))
                .collect(),
            excluded: Vec::new(),
            checks: Vec::new(),
        }
    }

    #[test]
    fn status_follows_the_worst_level() {
        assert_eq!(
            render(&report(&[])),
            (
                "PGCARRY DOCTOR OK - 0 error(s), 0 warning(s), 0 info | errors=0;;;0 \
                 warnings=0;;;0 info=0;;;0"
                    .into(),
                0
            )
        );
        assert_eq!(render(&report(&[Level::Info])).1, 0);
        let (line, code) = render(&report(&[Level::Warning, Level::Info]));
        assert_eq!(code, 1);
        assert!(
            line.starts_with("PGCARRY DOCTOR WARNING - 0 error(s), 1 warning(s), 1 info: c:o0 |")
        );
        let many = [Level::Error; 7];
        let (line, code) = render(&report(&many));
        assert_eq!(code, 2);
        assert!(line.contains("c:o4 and 2 more |"), "{line}");
    }
}
