//! Progress on stderr: a spinner per step on a TTY, plain lines otherwise; nothing with
//! `-o json` or `-q`.

use super::{diag, Style};
use crate::render::Format;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

/// Receives progress events from library code (plans, collectors).
pub trait Reporter: Send + Sync {
    fn step_started(&self, step: &str);
    fn step_finished(&self, step: &str, ok: bool, detail: &str, took: Duration);
    fn note(&self, text: &str);
}

/// Reports nothing: for tests that drive an `Executor` and read its records.
#[cfg(test)]
pub struct Silent;

#[cfg(test)]
impl Reporter for Silent {
    fn step_started(&self, _: &str) {}
    fn step_finished(&self, _: &str, _: bool, _: &str, _: Duration) {}
    fn note(&self, _: &str) {}
}

pub struct StepReporter {
    enabled: bool,
    tty: bool,
    spinner: std::sync::Mutex<Option<(ProgressBar, Instant)>>,
}

impl StepReporter {
    pub fn new(style: &Style) -> Self {
        StepReporter {
            enabled: !style.quiet && style.format != Format::Json,
            tty: style.stderr_tty,
            spinner: std::sync::Mutex::new(None),
        }
    }
}

impl Reporter for StepReporter {
    fn step_started(&self, step: &str) {
        if !self.enabled || !self.tty {
            return;
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(step.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        if let Ok(mut s) = self.spinner.lock() {
            *s = Some((bar, Instant::now()));
        }
    }

    fn step_finished(&self, step: &str, ok: bool, detail: &str, took: Duration) {
        if let Ok(mut s) = self.spinner.lock() {
            if let Some((bar, _)) = s.take() {
                bar.finish_and_clear();
            }
        }
        if !self.enabled {
            return;
        }
        let mark = if ok { "ok" } else { "FAILED" };
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        diag(&format!(
            "[{:>7}] {step} {mark}{detail}",
            crate::format::human_duration(took)
        ));
    }

    fn note(&self, text: &str) {
        if self.enabled {
            diag(text);
        }
    }
}
