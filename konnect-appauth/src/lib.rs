//! Not yet implemented: this crate is reserved for the workspace layout (see the README).
