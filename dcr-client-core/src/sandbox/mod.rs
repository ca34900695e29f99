//! Pieces both in-process sandboxes share: the HTTP server, fault injection, the request
//! log and the row table.

mod exchange;
mod faults;
mod http;
mod log;
mod serve;
mod table;

pub use exchange::Exchange;
pub use faults::{Fault, FaultKind, Faults};
pub use http::{Request, Server};
pub use log::LoggedRequest;
pub use serve::{Controls, Reply, Service, lock, serve, status_text};
pub use table::Table;
