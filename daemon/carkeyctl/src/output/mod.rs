//! Where results go: human text ([`table`]) or JSON ([`json`]), chosen once by `--json`.
//!
//! Commands hand both renderings to a [`Printer`] and never test the flag for formatting
//! themselves, so every command honours `--json` the same way: one pretty-printed document
//! per command, and one compact object per line for a stream (`monitor`), which a script
//! can read line by line.

pub(crate) mod json;
pub(crate) mod table;

use std::io::{self, Write};

use carkey_client::KeyId;
use serde_json::Value;

/// A change `monitor` shows: what kind, and which key or reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChangeEvent<'a> {
    /// When it was received (Unix seconds): a change signal carries no time of its own.
    pub(crate) time: i64,
    /// `key-added`, `key-removed`, `key-changed`, `reader-changed` or `vehicle-changed`.
    pub(crate) event: &'static str,
    /// The key, for a key's change.
    pub(crate) key: Option<&'a KeyId>,
    /// The reader's name, for a reader's change.
    pub(crate) reader: Option<&'a str>,
}

/// Writes results in the format asked for.
pub(crate) struct Printer<'a> {
    out: &'a mut dyn Write,
    json: bool,
}

impl<'a> Printer<'a> {
    pub(crate) fn new(out: &'a mut dyn Write, json: bool) -> Self {
        Self { out, json }
    }

    /// Whether JSON was asked for (for commands whose JSON needs another call).
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A command's one result; only the rendering asked for is built.
    pub(crate) fn document(&mut self, human: impl FnOnce() -> String, json: impl FnOnce() -> Value) -> io::Result<()> {
        if self.json { self.value(&json()) } else { self.text(&human()) }
    }

    /// Human text, given whole (lines end with `\n`).
    pub(crate) fn text(&mut self, text: &str) -> io::Result<()> {
        self.out.write_all(text.as_bytes())
    }

    /// A JSON document, pretty-printed.
    pub(crate) fn value(&mut self, value: &Value) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *self.out, value)?;
        self.out.write_all(b"\n")
    }

    /// One event of a stream, flushed at once so that a pipe sees it as it happens.
    pub(crate) fn line(&mut self, human: impl FnOnce() -> String, json: impl FnOnce() -> Value) -> io::Result<()> {
        if self.json {
            serde_json::to_writer(&mut *self.out, &json())?;
        } else {
            self.out.write_all(human().as_bytes())?;
        }
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    pub(crate) fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn printed(as_json: bool, print: impl FnOnce(&mut Printer<'_>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        print(&mut Printer::new(&mut out, as_json)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn documents_are_pretty_and_stream_lines_compact() {
        let document = |p: &mut Printer<'_>| p.document(|| "text\n".into(), || json!({"a": 1, "b": [2]}));
        assert_eq!(printed(false, document), "text\n");
        assert_eq!(printed(true, document), "{\n  \"a\": 1,\n  \"b\": [\n    2\n  ]\n}\n");
        let line = |p: &mut Printer<'_>| p.line(|| "event".into(), || json!({"event": "x"}));
        assert_eq!(printed(false, line), "event\n");
        assert_eq!(printed(true, line), "{\"event\":\"x\"}\n");
    }
}
