//! Progress: the one event type that role changes, deploy and snapshot emit, the one
//! `Reporter` that receives it, and the job monitor that draws it on stderr: bars on a TTY,
//! plain lines otherwise, nothing with `-o json` or `-q`.

use super::{diag, sanitize, Format, Style};
use crate::format::human_duration;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a running command tells about its work. Borrowed: telling costs no copy.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A step began on a node: a role change's step, a deploy change (with its `stage`:
    /// deploy runs independent stages at the same time), a snapshot item.
    StepStarted {
        stage: Option<&'a str>,
        node: &'a str,
        step: &'a str,
    },
    /// It ended; `detail` is its result or what went wrong.
    StepFinished {
        stage: Option<&'a str>,
        node: &'a str,
        step: &'a str,
        ok: bool,
        detail: &'a str,
        took: Duration,
    },
    /// More steps are due on a node (a snapshot's discovery items add theirs as they end).
    StepsPlanned { node: &'a str, steps: usize },
    /// Bytes arrived from a node.
    Received { node: &'a str, bytes: u64 },
    /// A node has nothing more to do; `error` when it could not be reached.
    NodeDone {
        node: &'a str,
        error: Option<&'a str>,
    },
    /// A deploy stage begins with that many changes to make.
    StageStarted { stage: &'a str, changes: usize },
    /// It ended in `state` (`unchanged`, `changed`, `FAILED`, …).
    StageFinished {
        stage: &'a str,
        state: &'a str,
        took: Duration,
    },
    /// A line to tell as it is.
    Note(&'a str),
}

/// Receives the events of a command's work.
pub trait Reporter: Send + Sync {
    fn event(&self, e: Event<'_>);
}

/// Drops every event: for tests, and for work whose progress is not shown.
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _: Event<'_>) {}
}

/// The shape of the work the monitor shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One step after another (swap, failover, rejoin): a spinner on the running step; a line
    /// with its time as each ends.
    Steps,
    /// Stages over nodes (deploy): a bar per node counting the stages and naming what runs;
    /// a line per change and per stage, every line stamped with the time since the start.
    Stages,
    /// Items per node (snapshot): a bar per node counting items and bytes; without a TTY one
    /// line per node when it is done.
    Items,
}

/// The job monitor: draws a command's events on stderr.
pub struct Monitor {
    layout: Layout,
    enabled: bool,
    tty: bool,
    started: Instant,
    /// Drawn on stderr on a TTY, hidden otherwise (the bars then only count).
    multi: MultiProgress,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The running step's spinner (`Steps`, on a TTY).
    spinner: Option<ProgressBar>,
    /// The running stage (`Stages`).
    stage: String,
    nodes: Vec<NodeBar>,
}

struct NodeBar {
    name: String,
    bar: ProgressBar,
    received: Arc<AtomicU64>,
    failed: usize,
    started: Instant,
}

impl Monitor {
    pub fn new(style: &Style, layout: Layout) -> Self {
        let enabled = !style.quiet && style.format != Format::Json;
        let tty = enabled && style.stderr_tty;
        let target = if tty {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Monitor {
            layout,
            enabled,
            tty,
            started: Instant::now(),
            multi: MultiProgress::with_draw_target(target),
            state: Mutex::new(State::default()),
        }
    }

    /// A bar for each of these nodes at once, each counting `steps` (deploy: its stages).
    pub fn with_nodes(self, nodes: &[String], steps: usize) -> Self {
        if let Ok(mut s) = self.state.lock() {
            for n in nodes {
                self.node(&mut s, n).bar.set_length(steps as u64);
            }
        }
        self
    }

    /// Takes the bars off the screen (before the result is printed).
    pub fn finish(&self) {
        if let Ok(mut s) = self.state.lock() {
            if let Some(b) = s.spinner.take() {
                b.finish_and_clear();
            }
            for n in &s.nodes {
                n.bar.finish_and_clear();
            }
        }
        let _ = self.multi.clear();
    }

    /// The node's bar, made on its first event.
    fn node<'s>(&self, s: &'s mut State, name: &str) -> &'s mut NodeBar {
        let i = match s.nodes.iter().position(|n| n.name == name) {
            Some(i) => i,
            None => {
                s.nodes.push(self.new_bar(name));
                s.nodes.len() - 1
            }
        };
        &mut s.nodes[i]
    }

    fn new_bar(&self, name: &str) -> NodeBar {
        let received = Arc::new(AtomicU64::new(0));
        let bar = self.multi.add(ProgressBar::new(0));
        let (template, tick) = match self.layout {
            Layout::Items => (
                "{prefix:>8} {spinner} {pos}/{len} items {received:>11} {elapsed:>4} {wide_msg}",
                120,
            ),
            // wide_msg: a long change summary is cut at the terminal's width, not wrapped.
            Layout::Stages | Layout::Steps => (
                "{prefix:>6} [{bar:16}] {pos}/{len} {elapsed:>4} {wide_msg}",
                200,
            ),
        };
        let shown = received.clone();
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> ").with_key(
                "received",
                move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{}", HumanBytes(shown.load(Ordering::Relaxed)));
                },
            ));
        }
        bar.set_prefix(name.to_string());
        if self.tty {
            bar.enable_steady_tick(Duration::from_millis(tick));
        }
        NodeBar {
            name: name.to_string(),
            bar,
            received,
            failed: 0,
            started: Instant::now(),
        }
    }

    fn spinner(&self, text: &str) -> ProgressBar {
        let bar = self.multi.add(ProgressBar::new_spinner());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} {elapsed}") {
            bar.set_style(style);
        }
        bar.set_message(sanitize::terminal(text).into_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    /// Updates the bars; returns the line the event prints, if any.
    fn apply(&self, s: &mut State, e: Event<'_>) -> Option<String> {
        match e {
            Event::StepStarted { stage, node, step } => {
                let stage = stage.unwrap_or(&s.stage).to_string();
                self.step_started(s, &stage, node, step);
                None
            }
            Event::StepFinished {
                stage,
                node,
                step,
                ok,
                detail,
                took,
            } => {
                let stage = stage.unwrap_or(&s.stage).to_string();
                self.step_finished(s, &stage, node, step, ok, detail, took)
            }
            Event::StepsPlanned { node, steps } => {
                self.node(s, node).bar.inc_length(steps as u64);
                None
            }
            Event::Received { node, bytes } => {
                let n = self.node(s, node);
                n.received.fetch_add(bytes, Ordering::Relaxed);
                None
            }
            Event::NodeDone { node, error } => {
                let n = self.node(s, node);
                n.bar.finish_with_message(match error {
                    Some(e) => sanitize::terminal(e).into_owned(),
                    None => "done".to_string(),
                });
                (!self.tty).then(|| node_done_line(n, error))
            }
            Event::StageStarted { stage, changes } => {
                s.stage = stage.to_string();
                for n in &s.nodes {
                    n.bar
                        .set_message(format!("{stage}: checked, {changes} to do"));
                }
                None
            }
            Event::StageFinished { stage, state, took } => {
                for n in &s.nodes {
                    n.bar.inc(1);
                    n.bar.set_message(format!("{stage}: {state}"));
                }
                Some(self.stamped(&format!("{stage}: {state} ({})", human_duration(took))))
            }
            Event::Note(text) if self.layout == Layout::Stages => Some(self.stamped(text)),
            Event::Note(text) => Some(text.to_string()),
        }
    }

    fn step_started(&self, s: &mut State, stage: &str, node: &str, step: &str) {
        match self.layout {
            Layout::Steps if self.tty => {
                s.spinner = Some(self.spinner(&format!("{node}: {step}")));
            }
            Layout::Steps => {}
            Layout::Stages => {
                let text = format!("{stage}: {step}");
                self.node(s, node)
                    .bar
                    .set_message(sanitize::terminal(&text).into_owned());
            }
            Layout::Items => {
                self.node(s, node)
                    .bar
                    .set_message(sanitize::terminal(step).into_owned());
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn step_finished(
        &self,
        s: &mut State,
        stage: &str,
        node: &str,
        step: &str,
        ok: bool,
        detail: &str,
        took: Duration,
    ) -> Option<String> {
        let mark = if ok { "ok" } else { "FAILED" };
        match self.layout {
            Layout::Steps => {
                if let Some(b) = s.spinner.take() {
                    b.finish_and_clear();
                }
                let detail = if detail.is_empty() {
                    String::new()
                } else {
                    format!(": {detail}")
                };
                Some(format!(
                    "[{:>7}] {node}: {step} {mark}{detail}",
                    human_duration(took)
                ))
            }
            Layout::Stages => {
                let took = if took >= Duration::from_millis(1000) {
                    format!(" ({})", human_duration(took))
                } else {
                    String::new()
                };
                Some(self.stamped(&format!("{stage} {node}: {step} {mark}{took}")))
            }
            Layout::Items => {
                let n = self.node(s, node);
                if !ok {
                    n.failed += 1;
                }
                n.bar.inc(1);
                None
            }
        }
    }

    fn stamped(&self, text: &str) -> String {
        format!("[{:>7}] {text}", human_duration(self.started.elapsed()))
    }
}

/// A node's line once it is done: items, bytes and time, or why it could not be reached.
fn node_done_line(n: &NodeBar, error: Option<&str>) -> String {
    let name = &n.name;
    let bytes = HumanBytes(n.received.load(Ordering::Relaxed));
    let took = human_duration(n.started.elapsed());
    let items = n.bar.position();
    match error {
        Some(e) => format!("{name}: {e}"),
        None if n.failed > 0 => format!(
            "{name}: {items} items ({} did not succeed), {bytes} in {took}",
            n.failed
        ),
        None => format!("{name}: {items} items, {bytes} in {took}"),
    }
}

impl Reporter for Monitor {
    fn event(&self, e: Event<'_>) {
        if !self.enabled {
            return;
        }
        let line = match self.state.lock() {
            Ok(mut s) => self.apply(&mut s, e),
            Err(_) => return,
        };
        if let Some(line) = line {
            // Above the bars, which are drawn again under it (diag strips terminal control).
            self.multi.suspend(|| diag(&line));
        }
    }
}

impl Drop for Monitor {
    /// An interrupted command leaves no spinner turning.
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn style(format: Format, quiet: bool) -> Style {
        Style {
            format,
            color: false,
            width: 80,
            quiet,
            verbose: 0,
            stdout_tty: false,
            stderr_tty: false,
        }
    }

    fn monitor(layout: Layout) -> Monitor {
        Monitor::new(&style(Format::Table, false), layout)
    }

    /// The lines a monitor without a TTY prints for these events (stamps cut off where they
    /// are the time since the start).
    fn lines(m: &Monitor, events: &[Event]) -> Vec<String> {
        let mut s = m.state.lock().unwrap();
        events.iter().filter_map(|e| m.apply(&mut s, *e)).collect()
    }

    #[test]
    fn steps_print_a_line_with_their_time_as_they_end() {
        let m = monitor(Layout::Steps);
        let got = lines(
            &m,
            &[
                Event::StepStarted {
                    stage: None,
                    node: "n2",
                    step: "promote",
                },
                Event::StepFinished {
                    stage: None,
                    node: "n2",
                    step: "promote",
                    ok: true,
                    detail: "role active, epoch 2",
                    took: Duration::from_millis(35),
                },
                Event::StepFinished {
                    stage: None,
                    node: "n1",
                    step: "demote",
                    ok: false,
                    detail: "",
                    took: Duration::from_millis(1100),
                },
            ],
        );
        assert_eq!(
            got,
            [
                "[  35 ms] n2: promote ok: role active, epoch 2",
                "[  1.1 s] n1: demote FAILED"
            ]
        );
    }

    #[test]
    fn a_step_is_named_by_its_own_stage_while_another_runs() {
        let m = monitor(Layout::Stages).with_nodes(&["n1".into(), "n2".into()], 2);
        let done = |stage, step| Event::StepFinished {
            stage: Some(stage),
            node: "n1",
            step,
            ok: true,
            detail: "",
            took: Duration::from_millis(20),
        };
        let started = |stage| Event::StageStarted { stage, changes: 1 };
        let got = lines(
            &m,
            &[
                started("galera"),
                started("gluster"),
                done("galera", "write a.cnf"),
                done("gluster", "create volume"),
            ],
        );
        let unstamped: Vec<&str> = got.iter().map(|l| &l[l.find(']').unwrap() + 2..]).collect();
        assert_eq!(
            unstamped,
            ["galera n1: write a.cnf ok", "gluster n1: create volume ok"]
        );
    }

    #[test]
    fn stages_print_changes_and_stages_stamped_from_the_start() {
        let m = monitor(Layout::Stages).with_nodes(&["n1".into(), "n2".into()], 2);
        let got = lines(
            &m,
            &[
                Event::Note("checking the nodes"),
                Event::StageStarted {
                    stage: "galera",
                    changes: 2,
                },
                Event::StepStarted {
                    stage: None,
                    node: "n2",
                    step: "restart mariadb",
                },
                Event::StepFinished {
                    stage: None,
                    node: "n2",
                    step: "restart mariadb",
                    ok: true,
                    detail: "",
                    took: Duration::from_millis(9400),
                },
                Event::StepFinished {
                    stage: None,
                    node: "n1",
                    step: "write a.cnf",
                    ok: false,
                    detail: "exit status 1",
                    took: Duration::from_millis(20),
                },
                Event::StageFinished {
                    stage: "galera",
                    state: "FAILED",
                    took: Duration::from_secs(19),
                },
            ],
        );
        let unstamped: Vec<&str> = got
            .iter()
            .map(|l| {
                assert!(l.starts_with('[') && l[1..8].ends_with(" ms"), "{l}");
                &l[10..]
            })
            .collect();
        assert_eq!(
            unstamped,
            [
                "checking the nodes",
                "galera n2: restart mariadb ok (9.4 s)",
                "galera n1: write a.cnf FAILED",
                "galera: FAILED (19 s)"
            ]
        );
        let s = m.state.lock().unwrap();
        assert!(s.nodes.iter().all(|n| n.bar.position() == 1));
    }

    #[test]
    fn items_count_per_node_and_print_one_line_when_it_is_done() {
        let m = monitor(Layout::Items);
        let item = |node, ok| Event::StepFinished {
            stage: None,
            node,
            step: "x",
            ok,
            detail: "",
            took: Duration::ZERO,
        };
        let got = lines(
            &m,
            &[
                Event::StepsPlanned {
                    node: "n1",
                    steps: 2,
                },
                Event::StepsPlanned {
                    node: "n2",
                    steps: 3,
                },
                Event::StepStarted {
                    stage: None,
                    node: "n1",
                    step: "n1/journal/all",
                },
                Event::Received {
                    node: "n1",
                    bytes: 2048,
                },
                item("n1", true),
                item("n1", false),
                Event::NodeDone {
                    node: "n1",
                    error: None,
                },
                Event::NodeDone {
                    node: "n2",
                    error: Some("unreachable: connection refused"),
                },
            ],
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got[0].starts_with("n1: 2 items (1 did not succeed), 2.00 KiB in "),
            "{got:?}"
        );
        assert_eq!(got[1], "n2: unreachable: connection refused");
    }

    #[test]
    fn json_and_quiet_show_nothing() {
        for (format, quiet) in [(Format::Json, false), (Format::Table, true)] {
            let m = Monitor::new(&style(format, quiet), Layout::Steps);
            assert!(!m.enabled);
        }
    }
}
