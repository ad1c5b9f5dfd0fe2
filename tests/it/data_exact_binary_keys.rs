//! Issue 16: a binary key compared as text (`--compare-as id=text`) whose bytes are
//! not UTF-8. MariaDB orders such a key through whatever conversion its ORDER BY
//! uses; the merge needs both sides in one order, and the buckets must pair the same
//! rows. Both strategies must report exactly the planted keys, never split a key into
//! "only in source" plus "only in target", and never abort.

use crate::data_exact::{both, exec_all, opts};
use cutover::data::Strategy;
use cutover::testkit;

/// Keys chosen so that byte order, UTF-8 order and a lossy conversion's order disagree:
/// invalid bytes (FF, 80, C0, a lone C3), valid multi-byte characters (é, €), a NUL,
/// and ASCII.
const KEYS: &[&str] = &[
    "61", "FF", "C3A9", "80", "7A", "E282AC", "C0", "00", "6100", "C3", "FF00", "FE", "41FF",
];

fn rows(keys: &[&str], changed: Option<&str>) -> String {
    let v: Vec<String> = keys
        .iter()
        .map(|k| {
            let n = if Some(*k) == changed { 99 } else { 1 };
            format!("(X'{k}', {n})")
        })
        .collect();
    v.join(", ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mariadb_binary_keys_holding_invalid_utf8_compared_as_text_pair_exactly() {
    let (Some(x), Some(y)) = (testkit::mysql().await, testkit::mysql().await) else {
        return;
    };
    let (a, b) = (x.connect().await, y.connect().await);
    let ddl = "CREATE TABLE k (id VARBINARY(8) PRIMARY KEY, v int)";
    // the target lacks FF and 80, has an extra E2, and row C0 changed
    let target: Vec<&str> = KEYS
        .iter()
        .copied()
        .filter(|k| *k != "FF" && *k != "80")
        .chain(["E2"])
        .collect();
    exec_all(
        &a,
        &[ddl, &format!("INSERT INTO k VALUES {}", rows(KEYS, None))],
    )
    .await;
    exec_all(
        &b,
        &[
            ddl,
            &format!("INSERT INTO k VALUES {}", rows(&target, Some("C0"))),
        ],
    )
    .await;

    // the reference: the same tables compared by their bytes
    let (by_bytes, _) = both(&a, &b, opts("k", Strategy::Buckets)).await;
    assert_eq!(by_bytes.only_source.len(), 2, "{by_bytes:?}");
    assert_eq!(by_bytes.only_target.len(), 1, "{by_bytes:?}");
    assert_eq!(by_bytes.changed.len(), 1, "{by_bytes:?}");

    let mut o = opts("k", Strategy::Buckets);
    o.compare_as = vec![("id".into(), cutover::db::Class::Text)];
    // compared as text: the same two rows only in the source, one only in the target,
    // one changed (a key split or a missed difference changes these counts), both ways
    for (s, t, flipped) in [(&a, &b, false), (&b, &a, true)] {
        let (f, _) = both(s, t, o.clone()).await;
        let (src_only, tgt_only) = if flipped { (1, 2) } else { (2, 1) };
        assert_eq!(f.only_source.len(), src_only, "flipped {flipped}: {f:?}");
        assert_eq!(f.only_target.len(), tgt_only, "flipped {flipped}: {f:?}");
        assert_eq!(f.changed.len(), 1, "{f:?}");
        assert_eq!(f.changed.iter().next().unwrap().1, "v", "{f:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bytea_keys_against_mariadb_varbinary_compared_as_text_pair_exactly() {
    let (Some(pg), Some(my)) = (testkit::postgres().await, testkit::mysql().await) else {
        return;
    };
    let (p, m) = (pg.connect().await, my.connect().await);
    let pg_rows: Vec<String> = KEYS.iter().map(|k| format!("('\\x{k}', 1)")).collect();
    exec_all(
        &p,
        &[
            "CREATE TABLE k (id bytea PRIMARY KEY, v int)",
            &format!("INSERT INTO k VALUES {}", pg_rows.join(", ")),
        ],
    )
    .await;
    exec_all(
        &m,
        &[
            "CREATE TABLE k (id VARBINARY(8) PRIMARY KEY, v int)",
            &format!("INSERT INTO k VALUES {}", rows(KEYS, Some("FE"))),
        ],
    )
    .await;
    let mut o = opts("k", Strategy::Buckets);
    o.compare_as = vec![("id".into(), cutover::db::Class::Text)];
    for (s, t) in [(&p, &m), (&m, &p)] {
        let (f, _) = both(s, t, o.clone()).await;
        assert!(
            f.only_source.is_empty() && f.only_target.is_empty(),
            "no key split:\n{f:?}"
        );
        assert_eq!(f.changed.len(), 1, "{f:?}");
    }
}
