//! A node for tests: it answers each command from the first rule whose text the command
//! contains (fixtures, exit statuses, transport errors) and records every command and its
//! input, so a test asserts what was run, and what was not.
#![allow(clippy::unwrap_used)]

use super::ssh::Output;
use super::{Exec, ProbeError};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

pub struct FakeNode {
    name: String,
    rules: Vec<(String, Result<Output, ProbeError>)>,
    ran: Mutex<Vec<(String, Option<Vec<u8>>)>>,
}

impl FakeNode {
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            rules: Vec::new(),
            ran: Mutex::new(Vec::new()),
        }
    }

    /// Commands containing `text` succeed with `stdout`.
    pub fn answer(self, text: &str, stdout: &str) -> Self {
        self.rule(
            text,
            Ok(Output {
                status: Some(0),
                stdout: stdout.as_bytes().to_vec(),
                ..Default::default()
            }),
        )
    }

    /// Commands containing `text` exit with `status`, `stderr` on stderr.
    pub fn exits(self, text: &str, status: u32, stderr: &str) -> Self {
        self.rule(
            text,
            Ok(Output {
                status: Some(status),
                stderr: stderr.as_bytes().to_vec(),
                ..Default::default()
            }),
        )
    }

    /// Commands containing `text` fail in the transport (timeout, channel refused…).
    pub fn errs(self, text: &str, error: ProbeError) -> Self {
        self.rule(text, Err(error))
    }

    fn rule(mut self, text: &str, answer: Result<Output, ProbeError>) -> Self {
        self.rules.push((text.to_string(), answer));
        self
    }

    /// Every command run so far, in order.
    pub fn commands(&self) -> Vec<String> {
        self.ran
            .lock()
            .unwrap()
            .iter()
            .map(|(c, _)| c.clone())
            .collect()
    }

    /// What the command containing `text` got on stdin.
    pub fn input_of(&self, text: &str) -> Option<Vec<u8>> {
        let ran = self.ran.lock().unwrap();
        ran.iter().find(|(c, _)| c.contains(text))?.1.clone()
    }
}

impl Exec for FakeNode {
    fn node_name(&self) -> &str {
        &self.name
    }

    fn exec_limited(
        &self,
        command: &str,
        input: Option<&[u8]>,
        _limit: Duration,
        _max_output: usize,
    ) -> impl Future<Output = Result<Output, ProbeError>> + Send {
        self.ran
            .lock()
            .unwrap()
            .push((command.to_string(), input.map(<[u8]>::to_vec)));
        let answer = self
            .rules
            .iter()
            .find(|(text, _)| command.contains(text.as_str()))
            .map(|(_, answer)| answer.clone())
            .unwrap_or_else(|| {
                Err(ProbeError::failed(format!(
                    "{}: no fixture for `{command}`",
                    self.name
                )))
            });
        std::future::ready(answer)
    }
}

/// Writes an executable `dir/name` running `body` under /bin/sh: a stand-in for a command a
/// node script calls, put first on PATH by the test that runs the script.
pub fn stand_in(dir: &std::path::Path, name: &str, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
