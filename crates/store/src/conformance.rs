//! The conformance suite every Store backend runs (filled in by the backend work).
