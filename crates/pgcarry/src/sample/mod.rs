//! The built-in sample application database: the demo (`pgcarry rehearse --sample`) and the
//! benchmark workload.
//!
//! It is the SQLite file of an IELTS writing-practice Telegram bot built on SQLAlchemy 2.x:
//! `users`, their essay `submissions`, the `assessments` a language model wrote for them, and
//! daily `rate_limits`. Schema and values are written exactly as SQLAlchemy writes SQLite
//! (its DDL layout, `YYYY-MM-DD HH:MM:SS.ffffff` datetimes, 0/1 booleans, enum names in
//! `VARCHAR` with a `CHECK`, `json.dumps` text in `JSON` columns).
//!
//! The content is a pure function of [`SampleOptions`]: the same seed and scale give the same
//! rows, byte for byte, on every machine and every version, because figures measured on it must
//! stay comparable. Randomness comes from `rng.rs`, never from a crate. Row counts are exactly
//! linear in the scale: per unit 1,000 users, 10,000 submissions, 9,000 assessments and 5,000
//! rate-limit rows, about 26 MB. This module only writes new files; it never modifies one.

mod clock;
mod prose;
mod rng;
mod words;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use clock::{MICROS_PER_DAY, MICROS_PER_SECOND, day_of, micros_at, write_date, write_datetime};
use rng::Rng;

/// Users per unit of scale.
pub const USERS_PER_SCALE: u64 = 1_000;
/// Submissions per unit of scale.
pub const SUBMISSIONS_PER_SCALE: u64 = 10_000;
/// Assessments per unit of scale: nine submissions in ten were evaluated.
pub const ASSESSMENTS_PER_SCALE: u64 = 9_000;
/// Rate-limit rows per unit of scale.
pub const RATE_LIMITS_PER_SCALE: u64 = 5_000;
/// The largest scale accepted (100 million submissions, about 2.6 TB).
pub const MAX_SCALE: u32 = 10_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Size in units of 1,000 users (about 26 MB each). Scale 20 is the benchmark: 527 MB.
    pub scale: u32,
    /// Seed of every random choice; the same seed and scale give identical content.
    pub seed: u64,
}

/// The seed of the default sample and of the published benchmark figures.
pub const DEFAULT_SEED: u64 = 0x1E17_5B07_2024_0001;

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            scale: 1,
            seed: DEFAULT_SEED,
        }
    }
}

/// What was generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSummary {
    pub path: PathBuf,
    /// `(table, rows)` in the order they were filled (parents first).
    pub tables: Vec<(String, u64)>,
    /// Size of the database file.
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("sample scale must be between 1 and {MAX_SCALE}, got {scale}")]
    InvalidScale { scale: u32 },
    #[error("{} already exists; the sample is only written to a new file (remove it or choose another path)", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("cannot create {}: {source}", path.display())]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("writing the sample database {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
}

/// The schema, exactly as SQLAlchemy 2.x's `metadata.create_all()` emits it for SQLite.
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE users (\n\
     \tid INTEGER NOT NULL, \n\
     \ttelegram_id BIGINT NOT NULL, \n\
     \tusername VARCHAR(64), \n\
     \tfirst_name VARCHAR(128) NOT NULL, \n\
     \tlast_name VARCHAR(128), \n\
     \tlanguage_code VARCHAR(8), \n\
     \tis_pro BOOLEAN NOT NULL, \n\
     \tpro_until DATETIME, \n\
     \tcreated_at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL, \n\
     \tupdated_at DATETIME NOT NULL, \n\
     \tPRIMARY KEY (id), \n\
     \tUNIQUE (telegram_id)\n\
     )",
    "CREATE INDEX ix_users_username ON users (username)",
    "CREATE TABLE submissions (\n\
     \tid INTEGER NOT NULL, \n\
     \tuser_id INTEGER NOT NULL, \n\
     \ttask_type VARCHAR(6) NOT NULL, \n\
     \tprompt TEXT NOT NULL, \n\
     \tessay TEXT NOT NULL, \n\
     \tword_count INTEGER NOT NULL, \n\
     \tstatus VARCHAR(9) NOT NULL, \n\
     \tcreated_at DATETIME NOT NULL, \n\
     \tevaluated_at DATETIME, \n\
     \tPRIMARY KEY (id), \n\
     \tFOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, \n\
     \tCONSTRAINT tasktype CHECK (task_type IN ('TASK_1', 'TASK_2')), \n\
     \tCONSTRAINT submissionstatus CHECK (status IN ('PENDING', 'EVALUATED', 'FAILED'))\n\
     )",
    "CREATE INDEX ix_submissions_user_id ON submissions (user_id)",
    "CREATE INDEX ix_submissions_created_at ON submissions (created_at)",
    "CREATE TABLE assessments (\n\
     \tid INTEGER NOT NULL, \n\
     \tsubmission_id INTEGER NOT NULL, \n\
     \ttask_achievement FLOAT NOT NULL, \n\
     \tcoherence_cohesion FLOAT NOT NULL, \n\
     \tlexical_resource FLOAT NOT NULL, \n\
     \tgrammatical_range FLOAT NOT NULL, \n\
     \toverall_band FLOAT NOT NULL, \n\
     \tfeedback TEXT NOT NULL, \n\
     \tsuggestions JSON NOT NULL, \n\
     \tjustifications JSON, \n\
     \tmodel VARCHAR(32), \n\
     \tcreated_at DATETIME NOT NULL, \n\
     \tPRIMARY KEY (id), \n\
     \tUNIQUE (submission_id), \n\
     \tFOREIGN KEY(submission_id) REFERENCES submissions (id) ON DELETE CASCADE\n\
     )",
    "CREATE TABLE rate_limits (\n\
     \tid INTEGER NOT NULL, \n\
     \tuser_id INTEGER NOT NULL, \n\
     \tdate DATE NOT NULL, \n\
     \tcount INTEGER DEFAULT 0 NOT NULL, \n\
     \tPRIMARY KEY (id), \n\
     \tCONSTRAINT uq_rate_limits_user_date UNIQUE (user_id, date), \n\
     \tFOREIGN KEY(user_id) REFERENCES users (id)\n\
     )",
];

/// The bot's history runs from its launch to the day the snapshot was taken (18 months).
fn window() -> (i64, i64) {
    (micros_at(2025, 1, 1), micros_at(2026, 7, 1))
}

/// Independent random streams, one per part of the data.
const STREAM_USERS: u64 = 1;
const STREAM_SUBMISSIONS: u64 = 2;
const STREAM_ESSAYS: u64 = 3;
const STREAM_ASSESSMENTS: u64 = 4;
const STREAM_RATE_LIMITS: u64 = 5;

/// Size knobs, tuned so that scale 20 is about 527 MB (see the module's tests).
const ESSAY_WORDS: (u64, u64) = (150, 305);
const FEEDBACK_REMARKS: (u64, u64) = (1, 1);

/// Generates the sample database at `path`, which must not exist yet.
///
/// On failure the partly written file is removed.
pub fn generate(path: &Path, opts: &SampleOptions) -> Result<SampleSummary, SampleError> {
    if opts.scale == 0 || opts.scale > MAX_SCALE {
        return Err(SampleError::InvalidScale { scale: opts.scale });
    }
    // `create_new` is the refusal to overwrite, atomically: an existing file is never opened.
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(SampleError::AlreadyExists {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(SampleError::Create {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let result = write_database(path, opts);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    let tables = result.map_err(|source| SampleError::Sqlite {
        path: path.to_path_buf(),
        source,
    })?;
    let bytes = std::fs::metadata(path)
        .map_err(|source| SampleError::Create {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    Ok(SampleSummary {
        path: path.to_path_buf(),
        tables,
        bytes,
    })
}

fn write_database(path: &Path, opts: &SampleOptions) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-131072;",
    )?;
    let scale = u64::from(opts.scale);
    let tx = conn.transaction()?;
    for ddl in SCHEMA {
        tx.execute_batch(ddl)?;
    }
    let users = insert_users(&tx, opts.seed, scale * USERS_PER_SCALE)?;
    let activity = insert_submissions(&tx, opts.seed, scale, &users)?;
    let rate_limits = insert_rate_limits(&tx, opts.seed, scale * RATE_LIMITS_PER_SCALE, &activity)?;
    tx.commit()?;
    // Leave the file the way the application would find it: an ordinary rollback journal.
    conn.execute_batch("PRAGMA journal_mode=DELETE; PRAGMA synchronous=FULL;")?;
    drop(conn);
    Ok(vec![
        ("users".to_owned(), scale * USERS_PER_SCALE),
        ("submissions".to_owned(), scale * SUBMISSIONS_PER_SCALE),
        ("assessments".to_owned(), scale * ASSESSMENTS_PER_SCALE),
        ("rate_limits".to_owned(), rate_limits),
    ])
}

/// What later tables need to know about a user.
struct User {
    created_at: i64,
    /// Typical band of the writer, in half-band units (8 = 4.0).
    level: u8,
}

/// Position of an instant in a growing service: `fraction` in `[0, 1)` maps to a time,
/// early times sparse, recent ones dense (usage grows over the months).
fn grown(start: i64, span: i64, fraction: f64) -> i64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let offset = (fraction.sqrt() * span as f64) as i64;
    start + offset
}

fn insert_users(
    tx: &rusqlite::Transaction<'_>,
    seed: u64,
    count: u64,
) -> rusqlite::Result<Vec<User>> {
    let mut rng = Rng::fork(seed, STREAM_USERS);
    let (start, end) = window();
    let span = end - start - 2 * MICROS_PER_DAY;

    // Telegram ids: distinct, 9 and 10 digits, most of them beyond 2^31 like recent accounts.
    let low: u64 = 100_000_000;
    let stride = (7_900_000_000 / count).max(1);
    let mut slots: Vec<u64> = (0..count).collect();
    for n in (1..slots.len()).rev() {
        let other = rng.index(n + 1);
        slots.swap(n, other);
    }

    let mut stmt = tx.prepare(
        "INSERT INTO users (id, telegram_id, username, first_name, last_name, language_code, \
         is_pro, pro_until, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    let mut users = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let (mut username, mut created, mut updated, mut pro) =
        (String::new(), String::new(), String::new(), String::new());
    for n in 0..count {
        let id = i64::try_from(n + 1).unwrap_or(i64::MAX);
        let telegram_id = i64::try_from(
            low + slots[usize::try_from(n).unwrap_or(0)] * stride + rng.below(stride),
        )
        .unwrap_or(i64::MAX);
        #[allow(clippy::cast_precision_loss)]
        let fraction = if n == 0 {
            0.0
        } else {
            (n as f64 + rng.unit()) / count as f64
        };
        let created_at = grown(start, span, fraction);
        let updated_at = created_at + rng.range_i64(0, end - MICROS_PER_DAY - created_at);
        let (first, language) = rng.pick(words::FIRST_NAMES);
        let last = (!rng.chance(0.45)).then(|| rng.pick(words::LAST_NAMES));
        let language = (!rng.chance(0.06)).then_some(language);
        let has_username = !rng.chance(0.18);
        username.clear();
        if has_username {
            username.push_str(rng.pick(words::USERNAME_STEMS));
            let _ = match rng.below(3) {
                0 => write!(username, "_{}", rng.range(1, 999)),
                1 => write!(username, "{}", rng.range(80, 2009)),
                _ => write!(
                    username,
                    "_{}",
                    rng.pick(&["ielts", "uz", "official", "study", "x"])
                ),
            };
        }
        // Pro: some active subscribers, some whose subscription ran out.
        let (is_pro, pro_until) = match rng.below(100) {
            0..12 => (
                true,
                Some(end + rng.range_i64(MICROS_PER_DAY, 365 * MICROS_PER_DAY)),
            ),
            12..20 => {
                let bought = created_at + rng.range_i64(0, (end - created_at) / 2);
                (
                    false,
                    Some((bought + 30 * MICROS_PER_DAY).min(end - MICROS_PER_SECOND)),
                )
            }
            _ => (false, None),
        };
        write_datetime(&mut created, created_at);
        write_datetime(&mut updated, updated_at);
        if let Some(until) = pro_until {
            write_datetime(&mut pro, until);
        }
        stmt.execute(params![
            id,
            telegram_id,
            has_username.then_some(username.as_str()),
            first,
            last,
            language,
            i64::from(is_pro),
            pro_until.map(|_| pro.as_str()),
            created,
            updated,
        ])?;
        let level = u8::try_from(rng.range(9, 15)).unwrap_or(12);
        users.push(User { created_at, level });
    }
    Ok(users)
}

/// One submission's (user, day), in insertion order: what the rate limiter counted.
type Activity = Vec<(u32, i32)>;

fn insert_submissions(
    tx: &rusqlite::Transaction<'_>,
    seed: u64,
    scale: u64,
    users: &[User],
) -> rusqlite::Result<Activity> {
    let mut rng = Rng::fork(seed, STREAM_SUBMISSIONS);
    let mut text_rng = Rng::fork(seed, STREAM_ESSAYS);
    let mut grade_rng = Rng::fork(seed, STREAM_ASSESSMENTS);
    let (start, end) = window();
    let span = end - start - MICROS_PER_DAY;
    let count = scale * SUBMISSIONS_PER_SCALE;

    let mut submission = tx.prepare(
        "INSERT INTO submissions (id, user_id, task_type, prompt, essay, word_count, status, \
         created_at, evaluated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut assessment = tx.prepare(
        "INSERT INTO assessments (id, submission_id, task_achievement, coherence_cohesion, \
         lexical_resource, grammatical_range, overall_band, feedback, suggestions, \
         justifications, model, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;

    let mut activity = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let (mut prompt, mut essay, mut created, mut evaluated) =
        (String::new(), String::new(), String::new(), String::new());
    let (mut feedback, mut suggestions, mut justifications) =
        (String::new(), String::new(), String::new());
    let mut eligible = 0usize;
    let mut assessment_id: i64 = 0;
    let justifications_since = micros_at(2026, 3, 1);
    let mut skipped_in_block = 0;
    for n in 0..count {
        let id = i64::try_from(n + 1).unwrap_or(i64::MAX);
        #[allow(clippy::cast_precision_loss)]
        let created_at = grown(
            start,
            span,
            (n as f64 + rng.unit().max(1e-9)) / count as f64,
        );
        while eligible < users.len() && users[eligible].created_at < created_at {
            eligible += 1;
        }
        let pool = eligible.max(1);
        // Half the essays come from recent sign-ups (eager beginners), half from anyone.
        let user = if rng.chance(0.5) {
            // Plain products, not `powi`: exact IEEE operations on every platform.
            let u = rng.unit();
            let back = u * u * u;
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss
            )]
            let offset = (back * pool as f64) as usize;
            pool - 1 - offset.min(pool - 1)
        } else {
            rng.index(pool)
        };
        let user_id = u32::try_from(user + 1).unwrap_or(u32::MAX);

        // Exactly one submission in each block of ten is not evaluated.
        let block_pos = n % 10;
        if block_pos == 0 {
            skipped_in_block = rng.below(10);
        }
        let status = if block_pos != skipped_in_block {
            "EVALUATED"
        } else if rng.chance(0.35) {
            "PENDING"
        } else {
            "FAILED"
        };

        let task1 = rng.chance(0.3);
        let (topic, text) = if task1 {
            rng.pick(words::TASK1_PROMPTS)
        } else {
            rng.pick(words::TASK2_PROMPTS)
        };
        prompt.clear();
        prompt.push_str(text);
        let target = usize::try_from(text_rng.range(ESSAY_WORDS.0, ESSAY_WORDS.1)).unwrap_or(200);
        let word_count = prose::essay(&mut essay, task1, topic, target, &mut text_rng);

        let evaluated_at = match status {
            "PENDING" => None,
            _ => Some(created_at + rng.range_i64(6 * MICROS_PER_SECOND, 95 * MICROS_PER_SECOND)),
        };
        write_datetime(&mut created, created_at);
        if let Some(at) = evaluated_at {
            write_datetime(&mut evaluated, at);
        }
        submission.execute(params![
            id,
            user_id,
            if task1 { "TASK_1" } else { "TASK_2" },
            prompt,
            essay,
            i64::try_from(word_count).unwrap_or(i64::MAX),
            status,
            created,
            evaluated_at.map(|_| evaluated.as_str()),
        ])?;
        activity.push((user_id, i32::try_from(day_of(created_at)).unwrap_or(0)));

        if let (Some(at), "EVALUATED") = (evaluated_at, status) {
            assessment_id += 1;
            let level = users[user].level;
            let bands: [u8; 4] = std::array::from_fn(|_| {
                let delta = i16::try_from(grade_rng.below(5)).unwrap_or(2) - 2;
                u8::try_from((i16::from(level) + delta).clamp(8, 18)).unwrap_or(12)
            });
            // IELTS rounds the mean to the nearest half band, .25 and .75 upwards.
            let sum: u16 = bands.iter().map(|&b| u16::from(b)).sum();
            let overall = u8::try_from((sum + 2) / 4).unwrap_or(12);
            let remarks = usize::try_from(grade_rng.range(FEEDBACK_REMARKS.0, FEEDBACK_REMARKS.1))
                .unwrap_or(1);
            prose::feedback(&mut feedback, bands, overall, remarks, &mut grade_rng);
            let tips = usize::try_from(grade_rng.range(3, 6)).unwrap_or(3);
            prose::suggestions_json(&mut suggestions, tips, &mut grade_rng);
            // Justifications came with a later version of the bot; some replies lacked them.
            let has_justifications = at >= justifications_since && !grade_rng.chance(0.05);
            if has_justifications {
                prose::justifications_json(&mut justifications, &mut grade_rng);
            }
            let model = (!grade_rng.chance(0.04)).then(|| grade_rng.pick(words::MODELS));
            let half = |h: u8| f64::from(h) / 2.0;
            write_datetime(&mut evaluated, at - grade_rng.range_i64(1_000, 400_000));
            assessment.execute(params![
                assessment_id,
                id,
                half(bands[0]),
                half(bands[1]),
                half(bands[2]),
                half(bands[3]),
                half(overall),
                feedback,
                suggestions,
                has_justifications.then_some(justifications.as_str()),
                model,
                evaluated,
            ])?;
        }
    }
    Ok(activity)
}

/// Daily counters of the rate limiter. Old rows are pruned by the bot, so the table holds the
/// most recent `count` (user, day) pairs that had submissions, with the number they made.
fn insert_rate_limits(
    tx: &rusqlite::Transaction<'_>,
    seed: u64,
    count: u64,
    activity: &Activity,
) -> rusqlite::Result<u64> {
    let mut rng = Rng::fork(seed, STREAM_RATE_LIMITS);
    let wanted = usize::try_from(count).unwrap_or(usize::MAX);
    let mut rows: Vec<((u32, i32), i64)> = Vec::with_capacity(wanted);
    let mut index_of: HashMap<(u32, i32), usize> = HashMap::with_capacity(wanted);
    for &pair in activity.iter().rev() {
        if let Some(&at) = index_of.get(&pair) {
            let row: &mut ((u32, i32), i64) = &mut rows[at];
            row.1 += 1;
        } else if rows.len() < wanted {
            index_of.insert(pair, rows.len());
            rows.push((pair, 1));
        }
    }
    // Should the activity hold too few pairs, earlier days of the same users make up the rest.
    let mut back = 1;
    while rows.len() < wanted && !activity.is_empty() {
        let (user, day) = activity[rng.index(activity.len())];
        let pair = (user, day - back);
        if let Entry::Vacant(slot) = index_of.entry(pair) {
            slot.insert(rows.len());
            rows.push((pair, i64::try_from(rng.range(1, 3)).unwrap_or(1)));
        } else {
            back += 1;
        }
    }
    rows.reverse();
    // The counter also counts attempts the limiter refused.
    let mut stmt =
        tx.prepare("INSERT INTO rate_limits (id, user_id, date, count) VALUES (?1, ?2, ?3, ?4)")?;
    let mut date = String::new();
    for (n, ((user, day), submitted)) in rows.iter().enumerate() {
        write_date(&mut date, i64::from(*day));
        let refused = if rng.chance(0.07) {
            i64::try_from(rng.range(1, 4)).unwrap_or(1)
        } else {
            0
        };
        stmt.execute(params![
            i64::try_from(n + 1).unwrap_or(i64::MAX),
            user,
            date,
            submitted + refused
        ])?;
    }
    Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests;
