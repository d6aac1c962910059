//! What the target server says about itself before anything is written to it.

use postgres::Client;

/// The database's encoding as the server names it (`UTF8`, `LATIN1`, `SQL_ASCII`…).
pub fn server_encoding(client: &mut Client) -> Result<String, postgres::Error> {
    client
        .query_one("SELECT current_setting('server_encoding')", &[])
        .map(|r| r.get(0))
}
