//! How long work reports where it is. The library calls these; the command line decides how to
//! show them (bars on a terminal, plain lines otherwise).

/// Receives progress events from any thread.
pub trait Progress: Sync {
    /// A phase of the run begins ("scan", "load", "constraints", "verify").
    fn phase(&self, _name: &str) {}
    /// A table begins in the current phase, with the rows expected.
    fn table_start(&self, _table: &str, _rows: u64) {}
    /// More rows (and bytes) of a table are done.
    fn table_advance(&self, _table: &str, _rows: u64, _bytes: u64) {}
    /// A table is done in the current phase.
    fn table_done(&self, _table: &str) {}
    /// A line worth telling the user.
    fn message(&self, _line: &str) {}
}

/// Shows nothing.
pub struct Silent;

impl Progress for Silent {}
