//! The synchronizer: sliding windows over mapped device time (placeholder, being written).
