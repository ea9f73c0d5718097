//! What happens on a connection before HTTP: nothing for the admin listener, the TLS handshake
//! for the device listener. A handshake turns the TCP stream into the stream hyper reads and
//! may attach values (the peer's certificate) that every request on the connection carries.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::http::Extensions;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub trait Handshake: Send + Sync + 'static {
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// The stream HTTP runs on, and what each of its requests' extensions receive.
    fn handshake(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
    ) -> impl Future<Output = io::Result<(Self::Stream, Extensions)>> + Send;
}

/// Plain HTTP: the TCP stream as it is.
pub struct Plain;

impl Handshake for Plain {
    type Stream = TcpStream;

    async fn handshake(
        &self,
        stream: TcpStream,
        _peer: SocketAddr,
    ) -> io::Result<(TcpStream, Extensions)> {
        Ok((stream, Extensions::new()))
    }
}
