//! `pipe completions SHELL` and `pipe man`: generated from the clap definitions, so they never
//! drift from the real command line.

use clap::CommandFactory;

use crate::Error;
use crate::cli::Cli;
use crate::output::Ui;

pub fn completions(ui: &Ui, shell: clap_complete::Shell) -> i32 {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "pipe", &mut buf);
    ui.stdout(&String::from_utf8_lossy(&buf));
    0
}

pub fn man(ui: &Ui) -> Result<i32, Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut buf)
        .map_err(|e| Error::env(format!("cannot render the manual page: {e}")))?;
    ui.stdout(&String::from_utf8_lossy(&buf));
    Ok(0)
}
