//! Property tests of the table checksum: random rows hash to the same checksum in any order,
//! and changing any one value (a byte, NULL into `''` or back) changes it; `jsonb` fields hash
//! alike however the document is spaced or its keys ordered.

use super::{Checksum, FieldKind, TupleHasher, jsonb};
use crate::formats::proptests::json_value;
use proptest::prelude::*;
use proptest::sample::Index;

type Row = Vec<Option<Vec<u8>>>;

/// 1 to 40 rows of 1 to 5 columns, each field NULL, empty or a few bytes.
fn rows() -> impl Strategy<Value = Vec<Row>> {
    (1usize..=5).prop_flat_map(|columns| {
        let field = prop::option::weighted(0.8, prop::collection::vec(any::<u8>(), 0..12));
        prop::collection::vec(prop::collection::vec(field, columns), 1..40)
    })
}

fn tuple(row: &Row) -> Vec<u8> {
    let mut t = i16::try_from(row.len())
        .expect("few columns")
        .to_be_bytes()
        .to_vec();
    for field in row {
        match field {
            Some(b) => {
                t.extend_from_slice(&i32::try_from(b.len()).expect("short").to_be_bytes());
                t.extend_from_slice(b);
            }
            None => t.extend_from_slice(&(-1i32).to_be_bytes()),
        }
    }
    t
}

fn checksum(rows: &[Row]) -> Checksum {
    let columns = rows.first().map_or(0, Vec::len);
    let mut hasher = TupleHasher::new(vec![FieldKind::Exact; columns]);
    let mut sum = Checksum::default();
    for row in rows {
        sum.add(hasher.hash(&tuple(row)).expect("well-formed tuple"));
    }
    sum
}

/// `v` with the members of every object in reverse order.
fn keys_reversed(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(a) => Value::Array(a.iter().map(keys_reversed).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .rev()
                .map(|(k, v)| (k.clone(), keys_reversed(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `v` with every `-0.0` written `0.0`.
fn signless_zeros(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(a) => Value::Array(a.iter().map(signless_zeros).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), signless_zeros(v)))
                .collect(),
        ),
        Value::Number(n) if n.to_string() == "-0.0" => Value::from(0.0),
        other => other.clone(),
    }
}

fn jsonb_hash(text: &str) -> u128 {
    let mut field = vec![1u8];
    field.extend_from_slice(text.as_bytes());
    let row = vec![Some(b"1".to_vec()), Some(field)];
    let mut hasher = TupleHasher::new(vec![FieldKind::Exact, FieldKind::Jsonb]);
    hasher.hash(&tuple(&row)).expect("well-formed tuple")
}

proptest! {
    #[test]
    fn row_order_does_not_change_the_checksum(
        (rows, shuffled) in rows().prop_flat_map(|r| (Just(r.clone()), Just(r).prop_shuffle())),
        split in any::<Index>(),
    ) {
        prop_assert_eq!(checksum(&rows), checksum(&shuffled));
        // Checksums of disjoint parts (the reader threads' chunks) merge into the whole.
        let (a, b) = shuffled.split_at(split.index(shuffled.len() + 1));
        let (a, b) = (checksum(a), checksum(b));
        prop_assert_eq!(a.sum.wrapping_add(b.sum), checksum(&rows).sum);
        prop_assert_eq!(a.rows + b.rows, checksum(&rows).rows);
    }

    #[test]
    fn changing_any_one_value_changes_the_checksum(
        rows in rows(),
        at_row in any::<Index>(),
        at_column in any::<Index>(),
        at_byte in any::<Index>(),
        bit in 0u8..8,
        grow in any::<bool>(),
    ) {
        let mut changed = rows.clone();
        let r = at_row.index(changed.len());
        let c = at_column.index(changed[r].len());
        let field = &mut changed[r][c];
        *field = match field.take() {
            None => Some(Vec::new()),                  // NULL → ''
            Some(b) if b.is_empty() && !grow => None,  // '' → NULL
            Some(mut b) if b.is_empty() || grow => {
                b.push(0);                              // one more byte
                Some(b)
            }
            Some(mut b) => {
                let i = at_byte.index(b.len());
                b[i] ^= 1 << bit;                       // one bit flipped
                Some(b)
            }
        };
        prop_assert_ne!(checksum(&rows).sum, checksum(&changed).sum);
        prop_assert_eq!(checksum(&rows).rows, checksum(&changed).rows);
    }

    #[test]
    fn jsonb_hashes_alike_however_spaced_or_ordered(v in json_value()) {
        let compact = v.to_string();
        let pretty = serde_json::to_string_pretty(&v).unwrap_or_default();
        let reordered = keys_reversed(&v).to_string();
        let h = jsonb_hash(&compact);
        prop_assert_eq!(h, jsonb_hash(&pretty), "{}", pretty);
        prop_assert_eq!(h, jsonb_hash(&reordered), "{}", reordered);
    }

    #[test]
    fn jsonb_canonical_form_tells_documents_apart(a in json_value(), b in json_value()) {
        let canonical = |v: &serde_json::Value| {
            let mut field = vec![1u8];
            field.extend_from_slice(v.to_string().as_bytes());
            let mut out = Vec::new();
            jsonb::canonical(&field, &mut out);
            out
        };
        // Equal documents (serde_json compares objects as maps, numbers as spelled) have equal
        // forms, and only they; jsonb reads -0.0 as 0.0, as numeric does.
        let same = signless_zeros(&a) == signless_zeros(&b);
        prop_assert_eq!(canonical(&a) == canonical(&b), same, "{} / {}", a, b);
    }
}
