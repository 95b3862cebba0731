//! hotline-routing (to be written).
