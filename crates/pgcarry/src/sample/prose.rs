//! Text for the sample: essays, examiner feedback and the JSON documents of an assessment,
//! assembled from the lists in `words.rs` with the sample's own random numbers.
//!
//! Everything writes into a caller's buffer so that generating a million rows allocates
//! almost nothing. The JSON is byte-for-byte what Python's `json.dumps` writes with its
//! defaults (`", "` and `": "` separators, non-ASCII as lowercase `\uXXXX`).

use std::fmt::Write as _;

use super::rng::Rng;
use super::words::{
    ADVERBS, BENEFITS, BODY_TEMPLATES, CLOSING_TEMPLATES, CONCLUSION_TEMPLATES, CRITERIA, EXAMPLES,
    FEEDBACK_CLOSINGS, FEEDBACK_CRITERION, FEEDBACK_OPENINGS, GROUPS, INTRO_TEMPLATES,
    JUSTIFICATIONS, PROBLEMS, SUGGESTIONS, T1_BODY, T1_INTRO, T1_ITEMS, T1_OVERVIEW, T1_VERBS,
    THESIS_TEMPLATES,
};

/// The hardest limit on an essay's length, in words.
pub(crate) const MAX_ESSAY_WORDS: usize = 320;

/// Words examiners quote back at the writer.
const QUOTED_WORDS: &[&str] = &[
    "consequently",
    "significant",
    "considerable",
    "beneficial",
    "detrimental",
    "furthermore",
    "drawback",
    "crucial",
    "nowadays",
    "obviously",
];

/// Fills `{slot}`s of one template and appends the sentence to `out`, capitalised.
fn fill(out: &mut String, template: &str, topic: &str, rng: &mut Rng, score: &str) {
    let start = out.len();
    let mut last_figure = 50;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').unwrap_or(after.len());
        match &after[..close] {
            "t" => out.push_str(topic),
            "g" | "g2" => out.push_str(rng.pick(GROUPS)),
            "b" => out.push_str(rng.pick(BENEFITS)),
            "p" => out.push_str(rng.pick(PROBLEMS)),
            "e" => out.push_str(rng.pick(EXAMPLES)),
            "a" => out.push_str(rng.pick(ADVERBS)),
            "i" | "i2" => out.push_str(rng.pick(T1_ITEMS)),
            "v" => out.push_str(rng.pick(T1_VERBS)),
            "n" | "m" => {
                last_figure = rng.range(3, 85);
                let _ = write!(out, "{last_figure}");
            }
            "lo" => {
                let _ = write!(out, "{}", rng.range(1, last_figure.max(3) - 1));
            }
            "hi" => {
                let _ = write!(out, "{}", rng.range(last_figure + 1, 95));
            }
            "y" => {
                let _ = write!(out, "{}", rng.range(1995, 2012));
            }
            "y2" => {
                let _ = write!(out, "{}", rng.range(2013, 2023));
            }
            "c" => out.push_str(CRITERIA[rng.index(CRITERIA.len())].1),
            "s" => out.push_str(score),
            "w" => out.push_str(rng.pick(QUOTED_WORDS)),
            other => out.push_str(other),
        }
        rest = after.get(close + 1..).unwrap_or("");
    }
    out.push_str(rest);
    if let Some(first) = out[start..].chars().next()
        && first.is_ascii_lowercase()
    {
        out[start..start + 1].make_ascii_uppercase();
    }
}

fn words_in(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Appends sentences drawn from `templates` to `out` as one paragraph of `count` sentences.
fn paragraph(out: &mut String, templates: &[&str], count: usize, topic: &str, rng: &mut Rng) {
    for n in 0..count {
        if n > 0 {
            out.push(' ');
        }
        fill(out, rng.pick(templates), topic, rng, "");
    }
}

/// Writes an essay of about `target` words (never more than [`MAX_ESSAY_WORDS`]) into `out`
/// and returns its word count, counted as Python's `len(text.split())` would.
pub(crate) fn essay(
    out: &mut String,
    task1: bool,
    topic: &str,
    target: usize,
    rng: &mut Rng,
) -> usize {
    out.clear();
    let (opening, body, ending): (&[&[&str]], &[&str], &[&[&str]]) = if task1 {
        (&[T1_INTRO, T1_OVERVIEW], T1_BODY, &[])
    } else {
        (
            &[INTRO_TEMPLATES, THESIS_TEMPLATES],
            BODY_TEMPLATES,
            &[CONCLUSION_TEMPLATES, CLOSING_TEMPLATES],
        )
    };
    let mut intro = String::new();
    for (n, templates) in opening.iter().enumerate() {
        if n > 0 {
            intro.push(' ');
        }
        paragraph(&mut intro, templates, 1, topic, rng);
    }
    let mut conclusion = String::new();
    for (n, templates) in ending.iter().enumerate() {
        if n > 0 {
            conclusion.push(' ');
        }
        paragraph(&mut conclusion, templates, 1, topic, rng);
    }
    let fixed = words_in(&intro) + words_in(&conclusion);
    let body_target = target.saturating_sub(fixed);
    let body_limit = MAX_ESSAY_WORDS.saturating_sub(fixed);

    out.push_str(&intro);
    let mut body_words = 0;
    let mut in_paragraph = 0;
    let mut paragraph_len = rng.range(3, 5);
    let mut sentence = String::new();
    let mut misses = 0;
    while body_words < body_target && misses < 8 {
        sentence.clear();
        fill(&mut sentence, rng.pick(body), topic, rng, "");
        let n = words_in(&sentence);
        if body_words + n > body_limit {
            misses += 1;
            continue;
        }
        if in_paragraph == 0 {
            out.push_str("\n\n");
        } else {
            out.push(' ');
        }
        out.push_str(&sentence);
        body_words += n;
        in_paragraph += 1;
        if in_paragraph >= paragraph_len {
            in_paragraph = 0;
            paragraph_len = rng.range(3, 5);
        }
    }
    if !conclusion.is_empty() {
        out.push_str("\n\n");
        out.push_str(&conclusion);
    }
    words_in(out)
}

/// A band in half-band units (8 = 4.0, 18 = 9.0), as the text examiners write: `6.5`.
pub(crate) fn band_text(out: &mut String, halves: u8) {
    out.clear();
    let _ = write!(
        out,
        "{}.{}",
        halves / 2,
        if halves % 2 == 1 { 5 } else { 0 }
    );
}

/// The examiner's feedback, three short paragraphs: the overall band, `remarks` comments on
/// the criteria (with their bands), a closing line.
pub(crate) fn feedback(
    out: &mut String,
    bands: [u8; 4],
    overall: u8,
    remarks: usize,
    rng: &mut Rng,
) {
    out.clear();
    let mut score = String::new();
    band_text(&mut score, overall);
    fill(out, rng.pick(FEEDBACK_OPENINGS), "", rng, &score);
    out.push_str("\n\n");
    for n in 0..remarks {
        let criterion = rng.index(CRITERIA.len());
        band_text(&mut score, bands[criterion]);
        let template = rng
            .pick(FEEDBACK_CRITERION)
            .replace("{c}", CRITERIA[criterion].1);
        if n > 0 {
            out.push(' ');
        }
        fill(out, &template, "", rng, &score);
    }
    out.push_str("\n\n");
    out.push_str(rng.pick(FEEDBACK_CLOSINGS));
}

/// `json.dumps` of a list of `count` distinct suggestions.
pub(crate) fn suggestions_json(out: &mut String, count: usize, rng: &mut Rng) {
    out.clear();
    let mut order: Vec<usize> = (0..SUGGESTIONS.len()).collect();
    out.push('[');
    for n in 0..count.min(order.len()) {
        let pick = n + rng.index(order.len() - n);
        order.swap(n, pick);
        if n > 0 {
            out.push_str(", ");
        }
        json_string(out, SUGGESTIONS[order[n]]);
    }
    out.push(']');
}

/// `json.dumps` of an object with the four criteria as keys, each a short justification.
pub(crate) fn justifications_json(out: &mut String, rng: &mut Rng) {
    out.clear();
    out.push('{');
    for (n, (key, _)) in CRITERIA.iter().enumerate() {
        if n > 0 {
            out.push_str(", ");
        }
        json_string(out, key);
        out.push_str(": ");
        json_string(out, rng.pick(JUSTIFICATIONS));
    }
    out.push('}');
}

/// A JSON string exactly as Python's `json.dumps(..., ensure_ascii=True)` writes it.
pub(crate) fn json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_json_matches_python_dumps() {
        let mut out = String::new();
        json_string(&mut out, "a \"q\" \\ — é 😀\n\u{1}");
        assert_eq!(out, r#""a \"q\" \\ \u2014 \u00e9 \ud83d\ude00\n\u0001""#);
    }

    #[test]
    fn sample_essays_respect_the_word_limits() {
        let mut rng = Rng::new(7);
        let mut out = String::new();
        for target in [150, 200, 250, 300, 320] {
            for task1 in [true, false] {
                let n = essay(&mut out, task1, "online education", target, &mut rng);
                assert_eq!(n, out.split_whitespace().count());
                assert!(
                    (target.min(300)..=MAX_ESSAY_WORDS).contains(&n),
                    "{n} for {target}"
                );
            }
        }
    }
}
