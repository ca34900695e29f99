//! Pieces both in-process sandboxes share: fault injection, the request log and the row table.

mod faults;
mod log;
mod table;

pub use faults::{Fault, FaultKind, Faults};
pub use log::LoggedRequest;
pub use table::Table;
