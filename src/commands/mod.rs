//! One file per command: each turns parsed flags into work and returns an exit code.

mod plan;
mod schema;
mod validate;

use crate::cli::{Cli, Command};
use crate::output::Ui;

pub fn dispatch(cli: Cli) -> Result<i32, crate::Error> {
    let ui = Ui::new(&cli.global);
    match cli.command {
        Command::Validate { paths, format } => validate::run(&ui, &paths, format),
        Command::Schema => schema::run(),
        Command::Plan { file, select, format } => plan::run(&ui, &file, &select, format),
        Command::Run(_)
        | Command::Approve(_)
        | Command::Reject(_)
        | Command::Resume { .. }
        | Command::Runs
        | Command::Logs { .. }
        | Command::History { .. }
        | Command::Prune => Err(crate::Error::Usage {
            message: "this command is not implemented yet".into(),
            hint: Some("`pipe validate` and `pipe schema` work in this version".into()),
        }),
    }
}
