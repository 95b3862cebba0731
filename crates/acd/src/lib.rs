//! hotline-acd (to be written).
