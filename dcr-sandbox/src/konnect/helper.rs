//! The thread on which the Konnect sandbox talks to Auth0.
//!
//! A sandbox answers requests synchronously under its lock, on its server's runtime, so
//! the HTTP calls of a DCR operation must run elsewhere while it waits. They used to get a
//! new thread, runtime and reqwest client each (and a reqwest client reads the system's
//! certificates when it is built): a few milliseconds per portal application. One helper
//! thread, started on first use, now runs every operation of every sandbox in the process
//! on one runtime and one connection pool.

use std::sync::OnceLock;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

/// A DCR operation, given the shared HTTP client.
type Job = Box<dyn FnOnce(reqwest::Client) -> BoxFuture<'static, ()> + Send>;

/// Longer than any operation can take: each HTTP call has a 10 s timeout.
const WAIT: Duration = Duration::from_secs(60);

static HELPER: OnceLock<Result<mpsc::UnboundedSender<Job>, String>> = OnceLock::new();

fn start() -> Result<mpsc::UnboundedSender<Job>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("sandbox runtime: {e}"))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("sandbox HTTP client: {e}"))?;
    let (jobs, mut queue) = mpsc::unbounded_channel::<Job>();
    std::thread::Builder::new()
        .name("konnect-sandbox-dcr".into())
        .spawn(move || {
            runtime.block_on(async move {
                // Each operation is a task of its own: two sandboxes' operations overlap.
                while let Some(job) = queue.recv().await {
                    tokio::spawn(job(http.clone()));
                }
            });
        })
        .map_err(|e| format!("sandbox DCR thread: {e}"))?;
    Ok(jobs)
}

/// Runs `f` on the helper thread and waits for its result.
pub(crate) fn run<T: Send + 'static>(
    f: impl FnOnce(reqwest::Client) -> BoxFuture<'static, T> + Send + 'static,
) -> Result<T, String> {
    let jobs = HELPER.get_or_init(start).as_ref().map_err(Clone::clone)?;
    // A std channel: the caller is inside a runtime, where tokio's blocking receive panics.
    let (done, result) = std_mpsc::channel();
    let job: Job = Box::new(move |http| {
        Box::pin(async move {
            // The caller may have given up waiting; then nobody needs the result.
            let _ = done.send(f(http).await);
        })
    });
    jobs.send(job).map_err(|_| "sandbox DCR thread stopped".to_owned())?;
    result
        .recv_timeout(WAIT)
        .map_err(|_| "sandbox DCR operation did not finish".to_owned())
}
