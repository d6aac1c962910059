//! Reading binary COPY out of PostgreSQL: run a `COPY … TO STDOUT (FORMAT binary)` and hand
//! every tuple to a callback, streaming through one buffer whatever the table's size.

use super::error::describe_pg_error;
use crate::formats::copy::Tuples;
use postgres::Client;

/// Runs `sql` (a `COPY … TO STDOUT (FORMAT binary)`) and calls `each` with every tuple.
pub fn for_each_tuple(
    client: &mut Client,
    sql: &str,
    mut each: impl FnMut(&[u8]),
) -> Result<(), String> {
    let reader = client.copy_out(sql).map_err(|e| describe_pg_error(&e))?;
    let mut tuples = Tuples::new(reader);
    while let Some(t) = tuples.next_tuple()? {
        each(t);
    }
    Ok(())
}
