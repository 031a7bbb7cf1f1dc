//! Tests of the log formats.
