//! What rvenv prints: progress bars on a terminal, one plain line per event elsewhere (CI logs,
//! nixpacks), nothing but errors with `-q`. Everything goes to stderr except results a script may
//! read (`rvenv config`), so `rvenv install ... 2>/dev/null` stays quiet.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much to print and how.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    quiet: bool,
    verbose: bool,
    bars: bool,
}

impl Printer {
    pub fn new(quiet: u8, verbose: u8) -> Self {
        let quiet = quiet > 0;
        let bars = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        Printer {
            quiet,
            verbose: verbose > 0,
            bars,
        }
    }

    /// A line about what happens (`Resolved 12 packages in 0.31s`).
    pub fn status(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// A line only shown with `-v`.
    pub fn detail(&self, line: impl AsRef<str>) {
        if self.verbose && !self.quiet {
            eprintln!("{}", line.as_ref());
        }
    }

    /// A warning; shown unless `-q`.
    pub fn warn(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("warning: {}", line.as_ref());
        }
    }

    /// A progress indicator for `total` steps of one phase. On a terminal it is a bar; otherwise
    /// each finished step is one plain line (when `log_steps`), and the bar draws nothing.
    pub fn progress(&self, phase: &'static str, total: u64, log_steps: bool) -> Progress {
        let bar = if self.bars {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style =
                ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} {wide_msg}")
                    .map(|style| style.progress_chars("=> "))
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_prefix(phase);
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        } else {
            ProgressBar::hidden()
        };
        Progress {
            bar,
            plain: !self.bars && !self.quiet && log_steps,
            verbose: self.verbose,
        }
    }
}

/// One phase's progress; see [`Printer::progress`].
pub struct Progress {
    bar: ProgressBar,
    plain: bool,
    verbose: bool,
}

impl Progress {
    /// One step done, with a line for logs (`Downloaded numpy-2.1.0-...whl (15.2 MiB)`).
    pub fn step(&self, line: impl AsRef<str>) {
        if self.plain {
            eprintln!("{}", line.as_ref());
        }
        self.bar.set_message(line.as_ref().to_string());
        self.bar.inc(1);
    }

    /// One step done that is not worth a log line of its own (a cache hit): it moves the bar,
    /// and is logged only with `-v`.
    pub fn step_detail(&self, line: impl AsRef<str>) {
        if self.plain && self.verbose {
            eprintln!("{}", line.as_ref());
        }
        self.bar.set_message(line.as_ref().to_string());
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Human-readable sizes for log lines.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `0.31s`, `12ms`.
pub fn human_duration(duration: Duration) -> String {
    if duration.as_secs_f64() >= 1.0 {
        format!("{:.2}s", duration.as_secs_f64())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_naturally() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(15 * 1024 * 1024 + 200 * 1024), "15.2 MiB");
        assert_eq!(human_duration(Duration::from_millis(12)), "12ms");
        assert_eq!(human_duration(Duration::from_millis(1310)), "1.31s");
    }
}
