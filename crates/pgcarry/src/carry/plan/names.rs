//! Names of constraints and indexes, made unique per schema as PostgreSQL requires and
//! shortened to its 63 bytes.

use crate::postgres::ident::pg_name;
use std::collections::HashSet;

/// Constraint and index names are unique per schema in PostgreSQL: made unique here.
#[derive(Default)]
pub struct NameSet(HashSet<String>);

impl NameSet {
    pub fn claim(&mut self, wanted: &str) -> String {
        let mut name = pg_name(wanted);
        let mut n = 1;
        while !self.0.insert(name.clone()) {
            n += 1;
            name = pg_name(&format!("{wanted}{n}"));
        }
        name
    }
}
