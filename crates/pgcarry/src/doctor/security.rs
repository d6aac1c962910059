//! Security: TLS on this connection and what `pg_hba` lets others do without it, password
//! hashing, the role doctor runs as (the application's, ideally) being no superuser and not
//! owning what it only uses, and `CREATE` on a schema for everyone.

use super::check::{Ctx, USER_SCHEMA, lacks_privilege, no_privilege};
use super::finding::{Category, Finding, Level};
use crate::postgres::ident::quote_ident;

/// Whether this connection is encrypted, and whether it could be.
pub fn tls(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let row = ctx.client.query_one(
        "SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false), \
                host(inet_client_addr()), \
                coalesce(inet_client_addr() <<= inet '127.0.0.0/8' \
                         OR inet_client_addr() = inet '::1', true), \
                current_setting('ssl')",
        &[],
    )?;
    let (encrypted, client, local, server_ssl): (bool, Option<String>, bool, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let mut out = Vec::new();
    if !encrypted {
        let (level, how) = match client {
            None => (Level::Info, "over a Unix socket (local only)".to_string()),
            Some(addr) if local => (Level::Info, format!("from {addr} (this machine)")),
            Some(addr) => (Level::Warning, format!("from {addr}")),
        };
        let server = if server_ssl == "on" {
            "the server offers TLS".to_string()
        } else {
            "the server has ssl = off".to_string()
        };
        out.push(
            Finding::new(
                "tls",
                level,
                Category::Security,
                "connection",
                format!("this connection {how} is not encrypted; {server}"),
            )
            .setting(
                "ssl = on with a certificate on the server, and sslmode=verify-full in the \
                 clients' URLs",
            ),
        );
    }
    out.extend(hba_rules(ctx)?);
    Ok(out)
}

/// `pg_hba` lines that let others in without TLS, or without a password, from the network
/// (readable by superusers only: an info finding otherwise).
fn hba_rules(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let rows = ctx.client.query(
        "SELECT line_number, type, array_to_string(database, ','), array_to_string(user_name, ','), \
                coalesce(address, 'all'), auth_method FROM pg_hba_file_rules \
         WHERE error IS NULL AND type IN ('host', 'hostnossl', 'hostssl') \
           AND auth_method <> 'reject' \
           AND NOT coalesce(address IN ('127.0.0.1', '::1', 'localhost'), false) \
         ORDER BY line_number",
        &[],
    );
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) if lacks_privilege(&e) => {
            return Ok(vec![no_privilege(
                "tls",
                Category::Security,
                "pg_hba_file_rules",
                &ctx.role,
                &e,
            )]);
        }
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for r in rows {
        let (line, kind, dbs, users, addr, method): (i32, String, String, String, String, String) =
            (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5));
        let (level, what) = if method == "trust" {
            (Level::Error, "without any password")
        } else if kind != "hostssl" {
            (Level::Warning, "without TLS")
        } else {
            continue;
        };
        out.push(
            Finding::new(
                "hba",
                level,
                Category::Security,
                format!("pg_hba line {line}"),
                format!(
                    "pg_hba.conf line {line} ({kind} {dbs} {users} {addr} {method}) lets clients \
                     from {addr} connect {what}"
                ),
            )
            .setting(
                "use hostssl with scram-sha-256 for network addresses (pg_hba.conf, then reload)",
            ),
        );
    }
    Ok(out)
}

/// `password_encryption` other than scram-sha-256.
pub fn password_encryption(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let value: String = ctx
        .client
        .query_one("SELECT current_setting('password_encryption')", &[])?
        .get(0);
    if value == "scram-sha-256" {
        return Ok(Vec::new());
    }
    Ok(vec![
        Finding::new(
            "password_encryption",
            Level::Warning,
            Category::Security,
            "password_encryption",
            format!(
                "password_encryption is {value}: new passwords are stored as {value} hashes, \
                 which a stolen hash lets anyone replay"
            ),
        )
        .setting(
            "password_encryption = 'scram-sha-256' (postgresql.conf, reload), then set each \
             role's password again",
        ),
    ])
}

/// The role doctor runs as: a superuser (error), or owning tables it only needs to use (info).
pub fn role(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let role = ctx.role.clone();
    let row = ctx.client.query_one(
        &format!(
            "SELECT r.rolsuper, \
                    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relowner = r.oid AND c.relkind IN ('r', 'p') AND {USER_SCHEMA}) \
             FROM pg_roles r WHERE r.rolname = current_user"
        ),
        &[],
    )?;
    let (superuser, owned): (bool, i64) = (row.get(0), row.get(1));
    let mut out = Vec::new();
    if superuser {
        out.push(
            Finding::new(
                "superuser_role",
                Level::Error,
                Category::Security,
                role.clone(),
                format!(
                    "role {role} is a superuser: an application connecting as it can read any \
                     file the server can, run programs as the server's user and drop any \
                     database (doctor checks the role it connects as: run it as the \
                     application's role, or exclude this key when this is a DBA's run)"
                ),
            )
            .advice(format!(
                "connect the application as a role without SUPERUSER (CREATE ROLE app LOGIN; \
                 GRANT USAGE ON SCHEMA ... ; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES \
                 IN SCHEMA ... TO app; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ... TO app), or \
                 ALTER ROLE {} NOSUPERUSER",
                quote_ident(&role)
            )),
        );
    } else if owned > 0 {
        out.push(
            Finding::new(
                "role_owns_tables",
                Level::Info,
                Category::Security,
                role.clone(),
                format!(
                    "role {role} owns {owned} table(s): it can ALTER and DROP them, where an \
                     application needs only to read and write rows"
                ),
            )
            .advice(
                "let a separate owner role own the schema (migrations run as it) and grant the \
                 application role SELECT, INSERT, UPDATE, DELETE",
            ),
        );
    }
    Ok(out)
}

/// Schemas on which every role (PUBLIC) may create objects.
pub fn public_create(ctx: &mut Ctx<'_>) -> Result<Vec<Finding>, postgres::Error> {
    let sql = format!(
        "SELECT n.nspname::text FROM pg_namespace n, \
                aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a \
         WHERE a.grantee = 0 AND a.privilege_type = 'CREATE' AND {USER_SCHEMA} ORDER BY 1"
    );
    Ok(ctx
        .client
        .query(&sql, &[])?
        .iter()
        .map(|r| {
            let schema: String = r.get(0);
            Finding::new(
                "public_create",
                Level::Warning,
                Category::Security,
                schema.clone(),
                format!(
                    "every role may create objects in schema {schema} (CREATE for PUBLIC): one \
                     can plant a function or table that others' unqualified names resolve to"
                ),
            )
            .sql(
                format!(
                    "REVOKE CREATE ON SCHEMA {} FROM PUBLIC;",
                    quote_ident(&schema)
                ),
                false,
            )
        })
        .collect())
}
