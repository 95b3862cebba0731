//! hotline-sip (to be written).
