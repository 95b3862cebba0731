//! hotline-switch (to be written).
