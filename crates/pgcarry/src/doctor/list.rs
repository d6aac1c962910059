//! The list of checks doctor runs, in order: the one place a new check is added.

use super::check::Check;
use super::finding::Category;
use super::{integrity, keys, maintenance, runtime, security};

/// Every check, most important first.
pub const CHECKS: &[Check] = &[
    Check {
        name: "sequences",
        category: Category::Keys,
        run: keys::sequences,
    },
    Check {
        name: "key_range",
        category: Category::Keys,
        run: keys::unsequenced_key_range,
    },
    Check {
        name: "no_primary_key",
        category: Category::Keys,
        run: keys::no_primary_key,
    },
    Check {
        name: "constraints",
        category: Category::Integrity,
        run: integrity::not_valid,
    },
    Check {
        name: "invalid_index",
        category: Category::Integrity,
        run: integrity::invalid_indexes,
    },
    Check {
        name: "fk_without_index",
        category: Category::Integrity,
        run: integrity::unindexed_foreign_keys,
    },
    Check {
        name: "duplicate_index",
        category: Category::Integrity,
        run: integrity::duplicate_indexes,
    },
    Check {
        name: "unused_index",
        category: Category::Integrity,
        run: integrity::unused_indexes,
    },
    Check {
        name: "never_analyzed",
        category: Category::Maintenance,
        run: maintenance::never_analyzed,
    },
    Check {
        name: "dead_tuples",
        category: Category::Maintenance,
        run: maintenance::dead_tuples,
    },
    Check {
        name: "xid_wraparound",
        category: Category::Maintenance,
        run: maintenance::wraparound,
    },
    Check {
        name: "autovacuum",
        category: Category::Maintenance,
        run: maintenance::autovacuum,
    },
    Check {
        name: "connections",
        category: Category::Runtime,
        run: runtime::connections,
    },
    Check {
        name: "sessions",
        category: Category::Runtime,
        run: runtime::sessions,
    },
    Check {
        name: "lock_waits",
        category: Category::Runtime,
        run: runtime::lock_waits,
    },
    Check {
        name: "replication",
        category: Category::Runtime,
        run: runtime::replication,
    },
    Check {
        name: "slow_statements",
        category: Category::Runtime,
        run: runtime::slow_statements,
    },
    Check {
        name: "tls",
        category: Category::Security,
        run: security::tls,
    },
    Check {
        name: "password_encryption",
        category: Category::Security,
        run: security::password_encryption,
    },
    Check {
        name: "role",
        category: Category::Security,
        run: security::role,
    },
    Check {
        name: "public_schema_create",
        category: Category::Security,
        run: security::public_create,
    },
];
