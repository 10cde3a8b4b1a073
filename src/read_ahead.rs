//! A streamed body read ahead of JS, up to a bound.
//!
//! A task on the runtime reads the body while JS handles the last chunk, so
//! the transfer never waits for the JS thread and JS rarely waits for the
//! worker: when bytes are already there, `take()` hands them over without a
//! thread hop. At most [`AHEAD`] bytes (plus one frame) wait here; then the
//! task stops reading, the sockets' buffers fill and the sender slows down.
//!
//! Bytes wait in chunks of [`CHUNK`], each handed to JS as it is (no copy):
//! a chunk's allocation is exactly what V8 is told the buffer holds, so the
//! garbage collector sees the memory it would free.

use crate::errors::{SdkError, SdkResult};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::sync::Notify;

/// Bytes read ahead of the reader before the task waits for it: large
/// enough that JS takes big chunks when it is the slower side, small enough
/// to keep memory flat.
pub const AHEAD: usize = 256 << 10;

/// The size of a chunk handed to JS (the size Node's own streams use).
pub const CHUNK: usize = 64 << 10;

/// What the reading task has received and JS has not taken yet.
#[derive(Default)]
pub struct Pipe {
    state: Mutex<State>,
    /// The task added bytes or the end.
    filled: Notify,
    /// JS took bytes out of a full pipe.
    drained: Notify,
}

#[derive(Default)]
struct State {
    /// Full chunks, then the one being filled.
    chunks: VecDeque<Vec<u8>>,
    /// The bytes in `chunks`.
    len: usize,
    /// `Some` once the body ended: cleanly, or with the error to report
    /// after the bytes before it.
    end: Option<SdkResult<()>>,
}

/// What JS gets from the pipe.
pub enum Taken {
    Bytes(Vec<u8>),
    End,
    Failed(SdkError),
    /// Nothing yet.
    Empty,
}

impl Pipe {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain bytes behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The oldest chunk received (up to [`CHUNK`] bytes), without waiting.
    pub fn take(&self) -> Taken {
        let mut state = self.state();
        if let Some(mut chunk) = state.chunks.pop_front() {
            let was_full = state.len >= AHEAD;
            state.len -= chunk.len();
            drop(state);
            if was_full {
                self.drained.notify_one();
            }
            // In place: the buffer's size is then all its allocation.
            chunk.shrink_to_fit();
            return Taken::Bytes(chunk);
        }
        match &state.end {
            None => Taken::Empty,
            Some(Ok(())) => Taken::End,
            Some(Err(e)) => Taken::Failed(e.clone()),
        }
    }

    /// Like [`Pipe::take`], waiting until there is something to take.
    pub async fn next(&self) -> Taken {
        loop {
            match self.take() {
                Taken::Empty => self.filled.notified().await,
                taken => return taken,
            }
        }
    }

    /// Adds received bytes (called by the reading task).
    pub fn push(&self, data: &[u8]) {
        let mut state = self.state();
        if state.end.is_some() {
            return;
        }
        state.len += data.len();
        let mut rest = data;
        while !rest.is_empty() {
            let chunk = match state.chunks.back_mut() {
                Some(c) if c.len() < CHUNK => c,
                _ => {
                    state.chunks.push_back(Vec::with_capacity(CHUNK));
                    state.chunks.back_mut().expect("just pushed")
                }
            };
            let n = rest.len().min(CHUNK - chunk.len());
            chunk.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
        drop(state);
        self.filled.notify_one();
    }

    /// Waits until JS has made room (called by the reading task).
    pub async fn room(&self) {
        while self.state().len >= AHEAD {
            self.drained.notified().await;
        }
    }

    /// The body ended: the bytes before stay to be taken, then `end`.
    pub fn end(&self, end: SdkResult<()>) {
        let mut state = self.state();
        state.end.get_or_insert(end);
        drop(state);
        self.filled.notify_one();
    }

    /// The reader gave up: what was read ahead is dropped and every later
    /// take fails with `error`.
    pub fn close(&self, error: SdkError) {
        let mut state = self.state();
        state.chunks = VecDeque::new();
        state.len = 0;
        state.end = Some(Err(error));
        drop(state);
        self.filled.notify_one();
        self.drained.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_before_the_end_and_its_error() {
        let pipe = Pipe::default();
        assert!(matches!(pipe.take(), Taken::Empty));
        pipe.push(b"ab");
        pipe.push(b"cd");
        pipe.end(Err(SdkError::aborted()));
        pipe.push(b"late");
        assert!(matches!(pipe.take(), Taken::Bytes(b) if b == b"abcd"));
        assert!(matches!(pipe.take(), Taken::Failed(_)));
        assert!(matches!(pipe.take(), Taken::Failed(_)));
    }

    #[test]
    fn close_drops_what_was_read_ahead() {
        let pipe = Pipe::default();
        pipe.push(b"ab");
        pipe.close(SdkError::aborted());
        assert!(matches!(pipe.take(), Taken::Failed(_)));
    }

    #[tokio::test]
    async fn a_full_pipe_waits_for_the_reader() {
        let pipe = std::sync::Arc::new(Pipe::default());
        pipe.push(&vec![0; AHEAD]);
        let waiting = tokio::spawn({
            let pipe = pipe.clone();
            async move { pipe.room().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        for _ in 0..AHEAD / CHUNK {
            assert!(matches!(pipe.take(), Taken::Bytes(b) if b.len() == CHUNK));
        }
        waiting.await.expect("room after the take");
        pipe.end(Ok(()));
        assert!(matches!(pipe.next().await, Taken::End));
    }
}
