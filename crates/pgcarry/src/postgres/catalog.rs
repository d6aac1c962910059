//! What the target server says about itself before anything is written to it.

use postgres::Client;

/// The database's encoding as the server names it (`UTF8`, `LATIN1`, `SQL_ASCII`…).
pub fn server_encoding(client: &mut Client) -> Result<String, postgres::Error> {
    client
        .query_one("SELECT current_setting('server_encoding')", &[])
        .map(|r| r.get(0))
}

/// An object that depends on a table, as `DROP TABLE … CASCADE` would remove it with the
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependent {
    /// The table it depends on.
    pub table: String,
    pub kind: DependentKind,
    /// The relation it belongs to: the view itself, the table a constraint or trigger is on.
    pub relid: u32,
    /// That relation's name.
    pub rel_name: String,
    /// The constraint, index, trigger or policy name (the view's for a view).
    pub name: String,
    /// As PostgreSQL describes it: `view public.active_users`, `trigger t on table users`…
    pub description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DependentKind {
    /// A view or materialized view reading the table.
    View,
    /// A rule on the table itself.
    Rule,
    /// A constraint: the table's own, or a foreign key of another table referencing it.
    Constraint,
    Index,
    Trigger,
    Policy,
    /// A column default (part of the table).
    Default,
    /// A grant on the table to another role than its owner (`privilege to role`).
    Grant,
    /// Anything else (a function taking the table's row type, a sequence it owns…).
    Other,
}

/// Every object that depends on table `$1` (by oid) or on its row type, except the pieces
/// PostgreSQL manages itself (internal dependencies): what CASCADE drops with it.
const DEPENDENTS: &str = "SELECT DISTINCT
  CASE d.classid
    WHEN 'pg_rewrite'::regclass THEN CASE WHEN r.ev_class = t.oid THEN 'rule' ELSE 'view' END
    WHEN 'pg_constraint'::regclass THEN 'constraint'
    WHEN 'pg_trigger'::regclass THEN 'trigger'
    WHEN 'pg_policy'::regclass THEN 'policy'
    WHEN 'pg_attrdef'::regclass THEN 'default'
    WHEN 'pg_class'::regclass THEN CASE WHEN dc.relkind IN ('i', 'I') THEN 'index' ELSE 'other' END
    ELSE 'other' END,
  COALESCE(r.ev_class, co.conrelid, tg.tgrelid, t.oid),
  COALESCE(vc.relname, cr.relname, t.relname),
  COALESCE(CASE WHEN r.oid IS NOT NULL THEN COALESCE(vc.relname, r.rulename::text) END,
           co.conname::text, tg.tgname::text, dc.relname::text, po.polname::text, ''),
  CASE WHEN r.oid IS NOT NULL AND r.ev_class <> t.oid
       THEN format('%s %s.%s', CASE vc.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END,
                   quote_ident(vn.nspname), quote_ident(vc.relname))
       ELSE pg_describe_object(d.classid, d.objid, 0) END
FROM pg_class t
JOIN pg_depend d ON (d.refclassid = 'pg_class'::regclass AND d.refobjid = t.oid)
                 OR (d.refclassid = 'pg_type'::regclass AND d.refobjid = t.reltype)
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
LEFT JOIN pg_class vc ON vc.oid = r.ev_class
LEFT JOIN pg_namespace vn ON vn.oid = vc.relnamespace
LEFT JOIN pg_constraint co ON d.classid = 'pg_constraint'::regclass AND co.oid = d.objid
LEFT JOIN pg_class cr ON cr.oid = co.conrelid
LEFT JOIN pg_trigger tg ON d.classid = 'pg_trigger'::regclass AND tg.oid = d.objid
LEFT JOIN pg_class dc ON d.classid = 'pg_class'::regclass AND dc.oid = d.objid
LEFT JOIN pg_policy po ON d.classid = 'pg_policy'::regclass AND po.oid = d.objid
WHERE t.oid = $1 AND d.deptype IN ('n', 'a')
UNION ALL
SELECT 'grant', t.oid, t.relname, a.grantee::text || ':' || a.privilege_type,
  format('%s on table %s to %s', a.privilege_type, t.oid::regclass,
         CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END)
FROM pg_class t, aclexplode(t.relacl) a
WHERE t.oid = $1 AND a.grantee <> t.relowner";

/// What depends on table `relid` (named `table`), grants included.
pub fn dependents(
    client: &mut Client,
    table: &str,
    relid: u32,
) -> Result<Vec<Dependent>, postgres::Error> {
    let rows = client.query(DEPENDENTS, &[&relid])?;
    Ok(rows
        .iter()
        .map(|r| Dependent {
            table: table.to_string(),
            kind: match r.get::<_, &str>(0) {
                "view" => DependentKind::View,
                "rule" => DependentKind::Rule,
                "constraint" => DependentKind::Constraint,
                "index" => DependentKind::Index,
                "trigger" => DependentKind::Trigger,
                "policy" => DependentKind::Policy,
                "default" => DependentKind::Default,
                "grant" => DependentKind::Grant,
                _ => DependentKind::Other,
            },
            relid: r.get(1),
            rel_name: r.get(2),
            name: r.get(3),
            description: r.get(4),
        })
        .collect())
}
