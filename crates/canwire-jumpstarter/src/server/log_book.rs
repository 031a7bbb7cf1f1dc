//! `LogStream`: the session's log as `jmp shell` shows it. Every stream
//! opens with INFO/SYSTEM "Session server started on …", then gets one
//! record per client connection and per failed driver call. Live records
//! go through a bounded broadcast: a stream that falls behind skips the
//! oldest and gets a WARNING saying how many.

use tokio::sync::broadcast;

use crate::proto::{LogSource, LogStreamResponse};

/// Records a stream may fall behind by before it skips.
const BACKLOG: usize = 256;

/// The log of one server.
pub struct LogBook {
    exporter_uuid: String,
    started: String,
    live: broadcast::Sender<LogStreamResponse>,
}

impl LogBook {
    /// A log whose first record says the server listens on `address`.
    pub fn new(exporter_uuid: String, address: &str) -> Self {
        Self {
            exporter_uuid,
            started: format!("Session server started on {address}"),
            live: broadcast::channel(BACKLOG).0,
        }
    }

    fn record(
        &self,
        uuid: &str,
        severity: &str,
        message: String,
        source: LogSource,
    ) -> LogStreamResponse {
        LogStreamResponse {
            uuid: uuid.to_owned(),
            severity: severity.to_owned(),
            message,
            source: Some(source as i32),
        }
    }

    /// The first record of every stream.
    pub fn started(&self) -> LogStreamResponse {
        self.record(
            &self.exporter_uuid,
            "INFO",
            self.started.clone(),
            LogSource::System,
        )
    }

    /// Logs a client connecting from `peer`.
    pub fn client_connected(&self, peer: &str) {
        let record = self.record(
            &self.exporter_uuid,
            "INFO",
            format!("Client connected from {peer}"),
            LogSource::System,
        );
        let _ = self.live.send(record);
    }

    /// Logs a failed driver call (Python logs every driver exception).
    pub fn driver_error(&self, driver_uuid: &str, method: &str, status: &tonic::Status) {
        let record = self.record(
            driver_uuid,
            "ERROR",
            format!("{method} failed: {:?} {}", status.code(), status.message()),
            LogSource::Driver,
        );
        let _ = self.live.send(record);
    }

    /// Live records from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LogStreamResponse> {
        self.live.subscribe()
    }

    /// The WARNING a stream gets after skipping `n` records.
    pub fn skipped(&self, n: u64) -> LogStreamResponse {
        self.record(
            &self.exporter_uuid,
            "WARNING",
            format!("{n} log records skipped: this log stream read too slowly"),
            LogSource::System,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn streams_start_with_the_session_record_then_get_live_ones() {
        let book = LogBook::new("E".into(), "127.0.0.1:1234");
        let first = book.started();
        assert_eq!(first.severity, "INFO");
        assert_eq!(first.message, "Session server started on 127.0.0.1:1234");
        assert_eq!(first.source, Some(LogSource::System as i32));
        let mut live = book.subscribe();
        book.client_connected("127.0.0.1:5555");
        let record = live.recv().await.unwrap();
        assert_eq!(record.message, "Client connected from 127.0.0.1:5555");
    }
}
