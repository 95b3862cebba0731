//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong when recording a call or storing its record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The writer thread has stopped (it panicked or the process is shutting down).
    #[error("the {0} writer thread is gone")]
    WriterGone(&'static str),
    /// A filesystem operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused an operation on the call store.
    #[error("call store {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The recordings' disk has less free space than its floor: the call goes unrecorded.
    #[error("{path}: {free} bytes free, under the floor of {floor}: not recorded")]
    DiskBelowFloor {
        /// The recordings root.
        path: PathBuf,
        /// Free bytes at the last look.
        free: u64,
        /// The configured floor.
        floor: u64,
    },
    /// A stored row could not be read back (a call record, or an agent state with no call).
    #[error("call store row {call_id:?}: bad {column}: {value:?}")]
    BadRow {
        /// The row's call id as stored.
        call_id: String,
        /// The column that did not parse.
        column: &'static str,
        /// The stored text.
        value: String,
    },
}
