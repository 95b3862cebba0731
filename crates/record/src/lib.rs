//! hotline-record (to be written).
