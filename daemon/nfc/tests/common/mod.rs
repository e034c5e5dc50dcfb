//! A minimal asynchronous phone for the reader's tests: it speaks the framing by hand so
//! each test can misbehave precisely.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use std::path::Path;

use carkey_nfc::framing::{self, FrameDecoder, FrameType};
use carkey_protocol::endpoint::Endpoint;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

pub struct Phone {
    pub stream: UnixStream,
    decoder: FrameDecoder,
}

impl Phone {
    pub async fn connect(path: &Path) -> Self {
        let stream = UnixStream::connect(path).await.unwrap();
        Self { stream, decoder: FrameDecoder::new(FrameType::Command) }
    }

    /// The next command, or `None` once the reader closed the connection.
    pub async fn command(&mut self) -> Option<Vec<u8>> {
        let mut buffer = [0u8; 512];
        loop {
            if let Some(frame) = self.decoder.next_frame().unwrap() {
                return Some(frame);
            }
            let n = self.stream.read(&mut buffer).await.ok()?;
            if n == 0 {
                return None;
            }
            self.decoder.extend(&buffer[..n]);
        }
    }

    pub async fn respond(&mut self, payload: &[u8]) {
        let frame = framing::encode(FrameType::Response, payload).unwrap();
        self.stream.write_all(&frame).await.unwrap();
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Answers every command with `endpoint` until the reader closes; returns the
    /// instruction byte of each command.
    pub async fn serve(mut self, endpoint: &mut Endpoint) -> Vec<u8> {
        let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
        let mut instructions = Vec::new();
        while let Some(command) = self.command().await {
            instructions.push(command[1]);
            let response = endpoint.process(&command, &mut rng);
            self.respond(&response).await;
        }
        endpoint.field_off();
        instructions
    }
}
