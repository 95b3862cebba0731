//! The spot checks' audit chain, sealed as `hotline qa` seals it (SHA-256 over each row and
//! the hash of the one before), so the console's rows check with `hotline qa audit --verify`.

use hotline_record::qa::AuditRow;
use sha2::Digest;

/// Seals an audit row for the store.
pub fn seal(row: &AuditRow) -> String {
    hotline_report::qa::chain::seal(row, |bytes| sha2::Sha256::digest(bytes).into())
}
