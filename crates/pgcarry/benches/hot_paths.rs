//! Micro-benchmarks of the two per-row hot paths: encoding a row into binary COPY, and
//! hashing a tuple for verification (plain, and with a jsonb field to canonicalise).
//!
//! `cargo bench -p pgcarry --bench hot_paths`. The rows have the sample's shape (an integer
//! key, a timestamp, a boolean, prose, a JSON document), so the figures speak for the load.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgcarry::internals::CopyBuffer;
use pgcarry::internals::PgType;
use pgcarry::internals::encode;
use pgcarry::internals::{FieldKind, TupleHasher};
use rusqlite::types::ValueRef;
use std::hint::black_box;

const ESSAY: &str = "Some people believe that universities should focus on practical skills, \
    while others argue that the purpose of higher education is broader. In my opinion, both \
    views have merit, and a balanced curriculum serves students and society best. ";
const FEEDBACK: &str = concat!(
    r#"{"band": 6.5, "criteria": {"task_response": 6, "coherence": 7, "#,
    r#""lexical_resource": 6.5, "grammar": 6.5}, "comments": ["Clear position", "#,
    r#""Vary sentence length"], "model": "gpt-4o-mini", "tokens": 1234}"#
);

fn row(i: i64, essay: &str) -> [(PgType, ValueRef<'_>); 5] {
    [
        (PgType::BigInt, ValueRef::Integer(i)),
        (
            PgType::Timestamp,
            ValueRef::Text(b"2024-03-01 12:34:56.789012"),
        ),
        (PgType::Boolean, ValueRef::Integer(i & 1)),
        (PgType::Text, ValueRef::Text(essay.as_bytes())),
        (PgType::Jsonb, ValueRef::Text(FEEDBACK.as_bytes())),
    ]
}

fn copy_encoder(c: &mut Criterion) {
    let essay = ESSAY.repeat(8);
    let rows: Vec<_> = (0..1000).map(|i| row(i, &essay)).collect();
    let mut group = c.benchmark_group("copy_encoder");
    group.throughput(Throughput::Elements(rows.len() as u64));
    group.bench_function("1000 sample rows", |b| {
        let mut buf = CopyBuffer::new();
        let mut sink = std::io::sink();
        b.iter(|| {
            for r in &rows {
                buf.begin_row(5);
                for (ty, v) in r {
                    encode(ty, *v, buf.out()).unwrap();
                }
                buf.maybe_flush(&mut sink).unwrap();
            }
            black_box(buf.sent)
        })
    });
    group.finish();
}

fn checksum(c: &mut Criterion) {
    let essay = ESSAY.repeat(8);
    let tuples: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            let mut t = 5i16.to_be_bytes().to_vec();
            for (ty, v) in row(i, &essay) {
                encode(&ty, v, &mut t).unwrap();
            }
            t
        })
        .collect();
    let kinds = |jsonb| {
        let last = if jsonb {
            FieldKind::Jsonb
        } else {
            FieldKind::Exact
        };
        vec![FieldKind::Exact; 4]
            .into_iter()
            .chain([last])
            .collect()
    };
    let mut group = c.benchmark_group("checksum");
    group.throughput(Throughput::Elements(tuples.len() as u64));
    for (name, jsonb) in [("1000 tuples, exact", false), ("1000 tuples, jsonb", true)] {
        group.bench_function(name, |b| {
            let mut hasher = TupleHasher::new(kinds(jsonb));
            b.iter(|| {
                let mut sum = 0u128;
                for t in &tuples {
                    sum = sum.wrapping_add(hasher.hash(t).unwrap());
                }
                black_box(sum)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, copy_encoder, checksum);
criterion_main!(benches);
