//! hotline-media (to be written).
