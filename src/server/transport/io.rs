//! The socket as hyper sees it: every read and write marks the connection active (for the
//! idle timeout), and the error response hyper writes by itself for a request it cannot parse
//! is swapped for the service's JSON error (see [`super::hyper_errors`]).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::activity::Activity;
use super::hyper_errors;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub struct WatchedStream<S> {
    stream: S,
    activity: Arc<Activity>,
    /// Whether anything was written yet: only the very first response of a connection can be
    /// recognised as hyper's own with certainty.
    wrote: bool,
    replacement: Option<Replacement>,
}

/// The JSON response being written in place of hyper's empty one.
struct Replacement {
    bytes: Vec<u8>,
    sent: usize,
}

impl<S> WatchedStream<S> {
    pub fn new(stream: S, activity: Arc<Activity>) -> Self {
        WatchedStream {
            stream,
            activity,
            wrote: false,
            replacement: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WatchedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.activity.touch();
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WatchedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // Before any request reached the service, the only thing hyper writes is its own answer
        // to a request it could not parse (400, 414, 431), with an empty body.
        if !this.wrote
            && this.replacement.is_none()
            && !this.activity.dispatched()
            && let Some(bytes) = hyper_errors::json_replacement(buf)
        {
            this.replacement = Some(Replacement { bytes, sent: 0 });
        }
        this.wrote = true;
        if let Some(replacement) = &mut this.replacement {
            while replacement.sent < replacement.bytes.len() {
                let rest = &replacement.bytes[replacement.sent..];
                let n = ready!(Pin::new(&mut this.stream).poll_write(cx, rest))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                replacement.sent += n;
                this.activity.touch();
            }
            // Hyper closes the connection after its error response; whatever it still writes
            // belongs to the response already replaced.
            return Poll::Ready(Ok(buf.len()));
        }
        let n = ready!(Pin::new(&mut this.stream).poll_write(cx, buf))?;
        if n > 0 {
            this.activity.touch();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
