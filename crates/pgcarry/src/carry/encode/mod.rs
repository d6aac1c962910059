//! Encoding source rows as PostgreSQL binary COPY tuples, exactly or not at all: one value
//! ([`value`]) and one row with its NOT NULL, orphan and repair rules ([`row`]). The load and the
//! verification's source side both encode through here, so they cannot drift apart.

pub mod row;
pub mod value;
#[cfg(test)]
mod value_proptests;
