//! What-if previews (R67).
