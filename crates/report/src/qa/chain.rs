//! The audit chain: each row's hash covers its fields and the hash of the row before, so a
//! row edited, deleted or slipped in breaks the chain at that row. And the cross-checks:
//! every draw and review has an audit row whose detail still matches it, so an edited
//! sample list or score is caught too.
//!
//! The hash function is an argument (the binary passes SHA-256), so this stays pure. Rows
//! cut off the end of the chain leave a shorter valid chain: the head printed by a verify
//! is what an inspector writes down to catch that later (`--head SEQ:HASH`).

use std::collections::BTreeMap;
use std::fmt;

use hotline_record::qa::{AuditRow, Draw, Review, Sample, GENESIS_HASH};

use super::draw::Seed;
use super::Rate;

/// A 256-bit hash over bytes (SHA-256 in the binary).
pub type HashFn = fn(&[u8]) -> [u8; 32];

/// A hash as the table stores it: 64 lowercase hex digits.
pub fn hex(hash: [u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes a row's hash covers: every field but the hash, each length-prefixed so that
/// no two different rows give the same bytes.
fn canonical(row: &AuditRow) -> Vec<u8> {
    let mut out = b"hotline-qa-audit-1".to_vec();
    let seq = row.seq.to_string();
    let fields = [
        seq.as_str(),
        &row.at,
        &row.actor,
        &row.action,
        row.call_id.as_deref().unwrap_or("\u{0}none"),
        &row.subject,
        &row.reason,
        &row.detail,
        &row.prev_hash,
    ];
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_be_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// The hash of `row` (its own `hash` field is ignored): the store's seal.
pub fn seal(row: &AuditRow, hash: HashFn) -> String {
    hex(hash(&canonical(row)))
}

/// Where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The row's hash does not cover its fields: the row was edited.
    Edited {
        /// The row.
        seq: i64,
    },
    /// The row does not follow the one before it: that row was rewritten whole, or rows
    /// between them were deleted.
    Unlinked {
        /// The row.
        seq: i64,
        /// The row before it in the table.
        after: Option<i64>,
    },
    /// Row numbers skip: rows were deleted.
    Gap {
        /// The row found.
        seq: i64,
        /// The row expected.
        expected: i64,
    },
    /// The head written down earlier is not in the chain: rows were cut or rewritten.
    HeadMissing {
        /// The row of the head.
        seq: i64,
    },
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Edited { seq } => write!(f, "audit row {seq} was edited: its hash does not match its contents"),
            Break::Unlinked { seq, after: Some(after) } => write!(
                f,
                "audit row {seq} does not follow row {after}: row {after} was rewritten or rows between were deleted"
            ),
            Break::Unlinked { seq, after: None } => {
                write!(f, "audit row {seq} is first but does not start the chain: rows before it were deleted")
            }
            Break::Gap { seq, expected } => {
                write!(f, "audit row {expected} is missing (the next is {seq}): rows were deleted")
            }
            Break::HeadMissing { seq } => write!(
                f,
                "the head written down (row {seq}) is not in the chain: rows were cut off or rewritten"
            ),
        }
    }
}

/// The end of a chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Rows in the chain.
    pub rows: usize,
    /// The last row's number (0 for an empty chain).
    pub seq: i64,
    /// The last row's hash (the genesis hash for an empty chain).
    pub hash: String,
}

/// Checks every row, in table order; every break found, each naming its row. `expected`
/// is a head written down at an earlier verify, which must still be in the chain.
pub fn verify(
    rows: &[AuditRow],
    hash: HashFn,
    expected: Option<(i64, &str)>,
) -> Result<Head, Vec<Break>> {
    let mut breaks = Vec::new();
    let mut prev: Option<&AuditRow> = None;
    for row in rows {
        let want_seq = prev.map_or(1, |p| p.seq.saturating_add(1));
        if row.seq != want_seq {
            breaks.push(Break::Gap {
                seq: row.seq,
                expected: want_seq,
            });
        }
        let want_prev = prev.map_or(GENESIS_HASH, |p| p.hash.as_str());
        if row.prev_hash != want_prev {
            breaks.push(Break::Unlinked {
                seq: row.seq,
                after: prev.map(|p| p.seq),
            });
        }
        if seal(row, hash) != row.hash {
            breaks.push(Break::Edited { seq: row.seq });
        }
        prev = Some(row);
    }
    if let Some((seq, want)) = expected {
        if !rows.iter().any(|r| r.seq == seq && r.hash == want) {
            breaks.push(Break::HeadMissing { seq });
        }
    }
    if !breaks.is_empty() {
        return Err(breaks);
    }
    Ok(Head {
        rows: rows.len(),
        seq: prev.map_or(0, |p| p.seq),
        hash: prev.map_or(GENESIS_HASH.to_string(), |p| p.hash.clone()),
    })
}

/// A draw's audit detail: what it was drawn from and a hash of what it drew, so an edited
/// sample list no longer matches its audit row.
pub fn draw_detail(draw: &DrawFacts<'_>, samples: &[(&str, &str)], hash: HashFn) -> String {
    let mut sorted: Vec<(&str, &str)> = samples.to_vec();
    sorted.sort();
    let list: String = sorted
        .iter()
        .map(|(call, agent)| format!("{call} {agent}\n"))
        .collect();
    format!(
        "scope={} office={} period={} rate={} seed={} calls={} sampled={} samples={}",
        draw.scope_kind,
        draw.office,
        draw.period,
        draw.rate,
        draw.seed,
        draw.calls,
        sorted.len(),
        hex(hash(list.as_bytes()))
    )
}

/// What a draw's detail is made of, from a new draw or a stored one.
#[derive(Debug, Clone, Copy)]
pub struct DrawFacts<'a> {
    /// `office` or `central`.
    pub scope_kind: &'a str,
    /// The office, empty for central.
    pub office: &'a str,
    /// The period's text.
    pub period: &'a str,
    /// The rate.
    pub rate: Rate,
    /// The seed.
    pub seed: Seed,
    /// Calls drawn from.
    pub calls: u64,
}

/// A review's audit detail: its score and a hash of its note.
pub fn review_detail(call_id: &str, score: u8, note: &str, hash: HashFn) -> String {
    format!(
        "call={call_id} score={score} note={}",
        hex(hash(note.as_bytes()))
    )
}

/// A stored draw or review that no longer matches its audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// A draw with no audit row (inserted behind the tools' back).
    DrawUnaudited(i64),
    /// A draw whose seed, rate or samples differ from what its audit row recorded.
    DrawChanged(i64),
    /// A review with no audit row.
    ReviewUnaudited(i64),
    /// A review whose call, score or note differs from its audit row.
    ReviewChanged(i64),
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::DrawUnaudited(id) => write!(f, "draw {id} has no audit row"),
            Mismatch::DrawChanged(id) => {
                write!(
                    f,
                    "draw {id} differs from its audit row: its seed, rate or samples were changed"
                )
            }
            Mismatch::ReviewUnaudited(id) => write!(f, "review {id} has no audit row"),
            Mismatch::ReviewChanged(id) => {
                write!(
                    f,
                    "review {id} differs from its audit row: its call, score or note was changed"
                )
            }
        }
    }
}

/// Checks every draw and review against the detail its audit row recorded.
pub fn cross_check(
    rows: &[AuditRow],
    draws: &[Draw],
    samples: &[Sample],
    reviews: &[Review],
    hash: HashFn,
) -> Vec<Mismatch> {
    let by_subject: BTreeMap<&str, &AuditRow> =
        rows.iter().map(|r| (r.subject.as_str(), r)).collect();
    let mut out = Vec::new();
    for d in draws {
        let period = d.period.clone();
        let facts = DrawFacts {
            scope_kind: d.scope.kind(),
            office: d.scope.office(),
            period: &period,
            rate: Rate::from_basis_points(d.rate_bp).unwrap_or(Rate::OFFICE_WEEKLY),
            seed: Seed(d.seed),
            calls: d.calls,
        };
        let mine: Vec<(&str, &str)> = samples
            .iter()
            .filter(|s| s.draw_id == d.id)
            .map(|s| (s.call_id.as_str(), s.agent.as_str()))
            .collect();
        let subject = format!("draw {}", d.id);
        match by_subject.get(subject.as_str()) {
            None => out.push(Mismatch::DrawUnaudited(d.id)),
            Some(row) => {
                let rate_ok = Rate::from_basis_points(d.rate_bp).is_some();
                if !rate_ok || row.detail != draw_detail(&facts, &mine, hash) {
                    out.push(Mismatch::DrawChanged(d.id));
                }
            }
        }
    }
    for r in reviews {
        let subject = format!("review {}", r.id);
        match by_subject.get(subject.as_str()) {
            None => out.push(Mismatch::ReviewUnaudited(r.id)),
            Some(row) => {
                let detail = review_detail(r.call_id.as_str(), r.score, &r.note, hash);
                if row.detail != detail || row.call_id.as_deref() != Some(r.call_id.as_str()) {
                    out.push(Mismatch::ReviewChanged(r.id));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Not a cryptographic hash; enough to test the chain's bookkeeping (the binary's
    /// SHA-256 is tested end to end).
    fn toy_hash(bytes: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for (i, b) in bytes.iter().enumerate() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
            out[i % 32] ^= (h >> 24) as u8;
        }
        for (i, o) in out.iter_mut().enumerate() {
            h = (h ^ i as u64).wrapping_mul(0x100_0000_01b3);
            *o ^= (h >> 32) as u8;
        }
        out
    }

    fn chain(n: usize) -> Vec<AuditRow> {
        let mut rows: Vec<AuditRow> = Vec::new();
        for i in 0..n {
            let mut row = AuditRow {
                seq: i as i64 + 1,
                at: format!("2026-12-07T0{}:00:00.000Z", i % 10),
                actor: "qc-07".into(),
                action: "play".into(),
                call_id: Some("20261124T090000-00000a".into()),
                subject: String::new(),
                reason: "spot check".into(),
                detail: String::new(),
                prev_hash: rows
                    .last()
                    .map_or(GENESIS_HASH.to_string(), |r| r.hash.clone()),
                hash: String::new(),
            };
            row.hash = seal(&row, toy_hash);
            rows.push(row);
        }
        rows
    }

    #[test]
    fn an_untouched_chain_verifies_to_its_head() {
        let rows = chain(5);
        let head = verify(&rows, toy_hash, None).unwrap();
        assert_eq!((head.rows, head.seq), (5, 5));
        assert_eq!(head.hash, rows[4].hash);
        assert!(verify(&rows, toy_hash, Some((3, &rows[2].hash))).is_ok());
        assert_eq!(verify(&[], toy_hash, None).unwrap().hash, GENESIS_HASH);
    }

    #[test]
    fn an_edited_reason_is_caught_at_its_row() {
        let mut rows = chain(5);
        rows[2].reason = "curiosity".into();
        assert_eq!(
            verify(&rows, toy_hash, None).unwrap_err(),
            vec![Break::Edited { seq: 3 }]
        );
    }

    #[test]
    fn a_row_rewritten_with_a_fresh_hash_breaks_the_next_link() {
        let mut rows = chain(5);
        rows[2].actor = "someone-else".into();
        rows[2].hash = seal(&rows[2], toy_hash);
        assert_eq!(
            verify(&rows, toy_hash, None).unwrap_err(),
            vec![Break::Unlinked {
                seq: 4,
                after: Some(3)
            }]
        );
    }

    #[test]
    fn a_deleted_row_and_a_cut_tail_are_caught() {
        let mut rows = chain(5);
        let head = rows[4].hash.clone();
        rows.remove(1);
        let breaks = verify(&rows, toy_hash, None).unwrap_err();
        assert!(breaks.contains(&Break::Gap {
            seq: 3,
            expected: 2
        }));
        let mut cut = chain(5);
        cut.truncate(3);
        assert!(
            verify(&cut, toy_hash, None).is_ok(),
            "a cut tail alone is a valid chain"
        );
        assert_eq!(
            verify(&cut, toy_hash, Some((5, &head))).unwrap_err(),
            vec![Break::HeadMissing { seq: 5 }],
            "but the head written down is gone"
        );
    }

    proptest! {
        #[test]
        fn any_edit_of_any_field_of_any_row_is_caught(
            n in 1usize..12, which in 0usize..12, field in 0usize..9, text in "[a-z0-9]{1,8}"
        ) {
            let mut rows = chain(n);
            let row = &mut rows[which % n];
            let seq = row.seq;
            match field {
                0 => row.at = text.clone(),
                1 => row.actor.push_str(&text),
                2 => row.action = text.clone(),
                3 => row.call_id = None,
                4 => row.subject.push_str(&text),
                5 => row.reason.push_str(&text),
                6 => row.detail.push_str(&text),
                7 => row.prev_hash.push_str(&text),
                _ => row.hash.push_str(&text),
            }
            let breaks = verify(&rows, toy_hash, None).unwrap_err();
            let named = breaks.iter().any(|b| match b {
                Break::Edited { seq: s } | Break::Unlinked { seq: s, .. } => *s == seq || *s == seq + 1,
                _ => false,
            });
            prop_assert!(named, "{:?}", breaks);
        }
    }
}
