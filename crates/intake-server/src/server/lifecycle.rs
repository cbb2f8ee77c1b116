//! The lifecycle of a running server: serving until a signal, and the graceful shutdown that lets
//! requests and jobs in progress finish.

use std::time::Duration;

use super::{LocalServer, ServeError};

impl LocalServer {
    /// Serves until `signal` completes (e.g. Ctrl-C), then shuts down gracefully.
    ///
    /// # Errors
    /// [`ServeError::Serve`] when the HTTP server failed.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> Result<(), ServeError> {
        tokio::select! {
            () = signal => {
                tracing::info!("shutting down: no new requests or jobs; finishing those in progress");
                self.shutdown().await
            }
            served = &mut self.http => {
                if let Some(retention) = self.retention.take() {
                    retention.stop().await;
                }
                let _ = self.workers.shutdown(Duration::ZERO).await;
                self.events.shutdown(Duration::ZERO).await;
                self.database.settle().await;
                served_result(served)
            }
        }
    }

    /// Stops accepting requests, lets requests and jobs in progress finish (jobs for up to the grace
    /// period; the rest resume at the next start), and returns.
    ///
    /// # Errors
    /// [`ServeError::Serve`] when the HTTP server failed.
    pub async fn shutdown(self) -> Result<(), ServeError> {
        let Self {
            http: mut served,
            stop_http,
            workers,
            events,
            retention,
            grace,
            database,
            _lock: lock,
            ..
        } = self;
        let _ = stop_http.send(());
        if let Some(retention) = retention {
            retention.stop().await;
        }
        // Requests (uploads) and jobs drain side by side, each for up to the grace period. An upload
        // cut off then is safe: its temporary file is removed at the next start, and its intent job
        // finds no object.
        let (served, abandoned) = tokio::join!(
            async {
                if let Ok(result) = tokio::time::timeout(grace, &mut served).await {
                    Some(result)
                } else {
                    served.abort();
                    None
                }
            },
            async {
                let abandoned = workers.shutdown(grace).await;
                // Events the pump has not moved yet stay in the outbox for the next start.
                events.shutdown(grace).await;
                abandoned
            },
        );
        if abandoned > 0 {
            tracing::warn!(
                abandoned,
                "jobs still running after the grace period; they resume at the next start"
            );
        }
        // Upload tickets written behind reach the disk before the directory is let go.
        database.settle().await;
        drop(lock);
        match served {
            None => {
                tracing::warn!("requests still running after the grace period were cut off");
                Ok(())
            }
            Some(served) => served_result(served),
        }
    }
}

/// What the HTTP task's end means for the server.
fn served_result(
    served: Result<std::io::Result<()>, tokio::task::JoinError>,
) -> Result<(), ServeError> {
    match served {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(ServeError::Serve(e)),
        Err(e) => Err(ServeError::Serve(std::io::Error::other(e))),
    }
}
