//! The real-world databases in ../shared/corpus migrate and verify with exit 0, keeping their
//! keys and foreign keys. They are copied to a temporary directory, never touched in place.

use crate::support::{pgcarry, test_db};
use std::path::PathBuf;

fn corpus(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus")
        .join(name);
    assert!(p.exists(), "corpus file {} is missing", p.display());
    p
}

fn migrate_corpus(name: &str, tables: i64, fks: i64) {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join(name);
    std::fs::copy(corpus(name), &copy).unwrap();
    let db = test_db(name);
    pgcarry()
        .current_dir(dir.path())
        .args(["migrate", copy.to_str().unwrap(), "--to", &db.url])
        .assert()
        .success();
    let mut c = db.client();
    let n: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(n, tables);
    let f: i64 = c
        .query_one(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated AND connamespace = 'public'::regnamespace",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(f, fks);
}

#[test]
fn chinook_migrates_and_verifies() {
    migrate_corpus("chinook.sqlite", 11, 11);
}

#[test]
fn chinook_with_autoincrement_migrates_and_continues_its_sequences() {
    migrate_corpus("chinook_autoincrement.sqlite", 11, 11);
}

#[test]
fn northwind_with_spaces_in_names_and_blob_pictures_migrates() {
    migrate_corpus("northwind.sqlite", 13, 13);
}
