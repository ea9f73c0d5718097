//! Testing only: write transactions stop once they hold the write lock, until the test opens
//! the gate, so a test can show what the service does while a write is provably in progress.

use tokio::sync::watch;

#[derive(Debug)]
pub struct WriteGate {
    open: watch::Sender<bool>,
    /// Writers that asked for the write connection.
    arrived: watch::Sender<usize>,
    /// Writers inside their transaction, stopped at the gate (or past it).
    inside: watch::Sender<usize>,
}

impl WriteGate {
    /// An open gate: writes pass until [`WriteGate::close`].
    pub fn new() -> Self {
        WriteGate {
            open: watch::Sender::new(true),
            arrived: watch::Sender::new(0),
            inside: watch::Sender::new(0),
        }
    }

    /// Stops every later write once it holds the write lock, and counts writes from zero again.
    pub fn close(&self) {
        self.arrived.send_replace(0);
        self.inside.send_replace(0);
        self.open.send_replace(false);
    }

    /// Lets every write stopped at the gate, and every later one, go on.
    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Waits until `count` writes asked for the write connection.
    pub async fn arrived(&self, count: usize) {
        let _ = self.arrived.subscribe().wait_for(|n| *n >= count).await;
    }

    /// How many writes asked for the write connection since the gate was closed.
    pub fn arrivals(&self) -> usize {
        *self.arrived.borrow()
    }

    /// Waits until `count` writes hold the write lock.
    pub async fn inside(&self, count: usize) {
        let _ = self.inside.subscribe().wait_for(|n| *n >= count).await;
    }

    pub(super) fn arrive(&self) {
        self.arrived.send_modify(|n| *n += 1);
    }

    pub(super) async fn pass(&self) {
        self.inside.send_modify(|n| *n += 1);
        let _ = self.open.subscribe().wait_for(|open| *open).await;
    }
}

impl Default for WriteGate {
    fn default() -> Self {
        Self::new()
    }
}
