//! Pieces both in-process sandboxes share: fault injection and the request log.

mod faults;
mod log;

pub use faults::{Fault, FaultKind, Faults};
pub use log::LoggedRequest;
