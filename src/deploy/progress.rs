//! Deploy progress on stderr: on a TTY one bar per node (its stage and what it is doing),
//! otherwise one plain line per change and per stage; nothing with `-o json` or `-q`.

use super::report::StageState;
use super::Stage;
use crate::format::human_duration;
use crate::render::Format;
use crate::render::{diag, Style};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::{Duration, Instant};

/// What the deploy runner tells about its progress.
pub trait DeployProgress: Send + Sync {
    fn stage_started(&self, stage: Stage, changes: usize);
    fn change_started(&self, stage: Stage, node: &str, summary: &str);
    fn change_finished(&self, stage: Stage, node: &str, summary: &str, ok: bool, took: Duration);
    fn stage_finished(&self, stage: Stage, state: StageState, took: Duration);
    fn note(&self, text: &str);
}

/// Says nothing (tests, `-o json`).
pub struct Silent;

impl DeployProgress for Silent {
    fn stage_started(&self, _: Stage, _: usize) {}
    fn change_started(&self, _: Stage, _: &str, _: &str) {}
    fn change_finished(&self, _: Stage, _: &str, _: &str, _: bool, _: Duration) {}
    fn stage_finished(&self, _: Stage, _: StageState, _: Duration) {}
    fn note(&self, _: &str) {}
}

pub struct Terminal {
    started: Instant,
    bars: Option<(MultiProgress, Vec<(String, ProgressBar)>)>,
    enabled: bool,
}

impl Terminal {
    pub fn new(style: &Style, nodes: &[String], stages: usize) -> Self {
        let enabled = !style.quiet && style.format != Format::Json;
        let bars = (enabled && style.stderr_tty).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            // wide_msg: a long change summary is cut at the terminal's width, not wrapped.
            let bar_style = ProgressStyle::with_template(
                "{prefix:>6} [{bar:16}] {pos}/{len} {elapsed:>4} {wide_msg}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bars = nodes
                .iter()
                .map(|n| {
                    let bar = multi.add(ProgressBar::new(stages as u64));
                    bar.set_style(bar_style.clone());
                    bar.set_prefix(n.clone());
                    bar.enable_steady_tick(Duration::from_millis(200));
                    (n.clone(), bar)
                })
                .collect();
            (multi, bars)
        });
        Terminal {
            started: Instant::now(),
            bars,
            enabled,
        }
    }

    fn line(&self, text: &str) {
        if !self.enabled {
            return;
        }
        let stamped = format!("[{:>7}] {text}", human_duration(self.started.elapsed()));
        match &self.bars {
            Some((multi, _)) => {
                let _ = multi.println(crate::render::sanitize::terminal(&stamped));
            }
            None => diag(&stamped),
        }
    }

    fn bar(&self, node: &str) -> Option<&ProgressBar> {
        self.bars
            .as_ref()
            .and_then(|(_, bars)| bars.iter().find(|(n, _)| n == node).map(|(_, b)| b))
    }

    pub fn finish(&self) {
        if let Some((multi, bars)) = &self.bars {
            for (_, b) in bars {
                b.finish_and_clear();
            }
            let _ = multi.clear();
        }
    }
}

impl DeployProgress for Terminal {
    fn stage_started(&self, stage: Stage, changes: usize) {
        if let Some((_, bars)) = &self.bars {
            for (_, b) in bars {
                b.set_message(format!("{}: checked, {changes} to do", stage.name()));
            }
        }
    }

    fn change_started(&self, stage: Stage, node: &str, summary: &str) {
        if let Some(b) = self.bar(node) {
            b.set_message(format!("{}: {summary}", stage.name()));
        }
    }

    fn change_finished(&self, stage: Stage, node: &str, summary: &str, ok: bool, took: Duration) {
        self.line(&format!(
            "{} {node}: {summary} {}{}",
            stage.name(),
            if ok { "ok" } else { "FAILED" },
            if took >= Duration::from_millis(1000) {
                format!(" ({})", human_duration(took))
            } else {
                String::new()
            }
        ));
    }

    fn stage_finished(&self, stage: Stage, state: StageState, took: Duration) {
        if let Some((_, bars)) = &self.bars {
            for (_, b) in bars {
                b.inc(1);
                b.set_message(format!("{}: {}", stage.name(), state.as_str()));
            }
        }
        self.line(&format!(
            "{}: {} ({})",
            stage.name(),
            state.as_str(),
            human_duration(took)
        ));
    }

    fn note(&self, text: &str) {
        self.line(text);
    }
}
