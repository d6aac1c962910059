//! Progress on the terminal: bars per table when stderr is a terminal, plain lines otherwise
//! (CI logs, pipes).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use pgcarry::Progress;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Instant;

pub struct Terminal {
    bars: Option<MultiProgress>,
    active: Mutex<HashMap<String, ProgressBar>>,
    phase: Mutex<String>,
    started: Instant,
    quiet: bool,
}

impl Terminal {
    pub fn new(quiet: bool) -> Terminal {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Terminal {
            bars,
            active: Mutex::new(HashMap::new()),
            phase: Mutex::new(String::new()),
            started: Instant::now(),
            quiet,
        }
    }

    fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bars {
            Some(m) => {
                let _ = m.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

impl Progress for Terminal {
    fn phase(&self, name: &str) {
        if let Ok(mut p) = self.phase.lock() {
            *p = name.to_string();
        }
        self.line(&format!(
            "[{:6.1}s] {name}",
            self.started.elapsed().as_secs_f64()
        ));
    }

    fn table_start(&self, table: &str, rows: u64) {
        let Some(m) = &self.bars else { return };
        if self.quiet {
            return;
        }
        let bar = m.add(ProgressBar::new(rows));
        let style = if rows > 0 {
            ProgressStyle::with_template("  {prefix:24} {bar:30} {pos:>9}/{len:9} rows {msg}")
        } else {
            ProgressStyle::with_template("  {prefix:24} {spinner} {pos:>9} rows {msg}")
        };
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar.set_prefix(table.to_string());
        if let Ok(mut a) = self.active.lock() {
            a.insert(table.to_string(), bar);
        }
    }

    fn table_advance(&self, table: &str, rows: u64, bytes: u64) {
        if let Ok(a) = self.active.lock()
            && let Some(bar) = a.get(table)
        {
            bar.inc(rows);
            if bytes > 0 {
                let mb = bytes as f64 / 1e6;
                let prev: f64 = bar.message().trim_end_matches(" MB").parse().unwrap_or(0.0);
                bar.set_message(format!("{:.1} MB", prev + mb));
            }
        }
    }

    fn table_done(&self, table: &str) {
        let bar = self.active.lock().ok().and_then(|mut a| a.remove(table));
        match bar {
            Some(bar) => bar.finish_and_clear(),
            None => {
                let phase = self.phase.lock().map(|p| p.clone()).unwrap_or_default();
                if phase == "load" {
                    self.line(&format!("  loaded {table}"));
                }
            }
        }
    }

    fn message(&self, line: &str) {
        self.line(line);
    }
}
