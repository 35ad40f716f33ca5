//! Where human text goes: colours (NO_COLOR, --color), quiet/verbose, stdout vs stderr.

use std::io::{IsTerminal, Write};

use crate::cli::{ColorChoice, Global};
use crate::report::{Facts, Style};

pub struct Ui {
    color: ColorChoice,
    pub quiet: bool,
    pub verbose: bool,
}

impl Ui {
    pub fn new(g: &Global) -> Self {
        Ui { color: g.color, quiet: g.quiet, verbose: g.verbose }
    }

    fn color_for(&self, is_tty: bool) -> bool {
        Style::choose(Facts::of_process(is_tty, self.color, self.quiet)).color
    }

    pub fn color_stdout(&self) -> bool {
        self.color_for(std::io::stdout().is_terminal())
    }

    pub fn color_stderr(&self) -> bool {
        self.color_for(std::io::stderr().is_terminal())
    }

    /// Write to stdout; a closed pipe (`pipe validate | head`) is not an error.
    pub fn stdout(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    }

    /// Copy `from` to stdout as it is read (constant memory, bytes as they are); false when
    /// stdout is closed (`pipe logs | head`), and the caller stops.
    pub fn stdout_copy(&self, mut from: impl std::io::Read) -> bool {
        let mut out = std::io::stdout().lock();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => return out.flush().is_ok(),
                Ok(n) => {
                    if out.write_all(&buf[..n]).is_err() {
                        return false;
                    }
                }
            }
        }
    }

    /// A line of human text on stderr, unless quiet.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            self.stderr_line(text);
        }
    }

    /// A line that matters even with `-q` (a notice that changes what runs, a warning).
    pub fn notice(&self, text: &str) {
        self.stderr_line(text);
    }

    fn stderr_line(&self, text: &str) {
        stderr(&format!("{text}\n"));
    }
}

/// Write to stderr; a closed stream is not an error (nor a panic, as `eprintln!` would be).
pub fn stderr(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
}
