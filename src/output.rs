//! Where human text goes: colours (NO_COLOR, --color), quiet/verbose, stdout vs stderr.

use std::io::{IsTerminal, Write};

use crate::cli::{ColorChoice, Global};

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
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
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

    /// A line of human text on stderr, unless quiet.
    pub fn info(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }
}
