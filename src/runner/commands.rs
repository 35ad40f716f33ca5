//! Workflow commands in step output (`::add-mask::`, `::group::`, `::error::` …), as GitHub's
//! runner reads them: one per line, `::name key=value,key=value::message`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    AddMask(String),
    Group(String),
    EndGroup,
    Annotation {
        level: &'static str,
        message: String,
        file: Option<String>,
        line: Option<String>,
    },
    Debug(String),
    /// `::stop-commands::TOKEN`: ignore commands until `::TOKEN::`.
    StopCommands(String),
    /// The spellings GitHub still runs of what the env files do now: `::set-output name=N::V`
    /// and `::save-state name=N::V` (deprecated, with a warning), `::set-env name=N::V` and
    /// `::add-path::DIR` (only when `ACTIONS_ALLOW_UNSECURE_COMMANDS` is true).
    SetOutput {
        name: String,
        value: String,
    },
    SaveState {
        name: String,
        value: String,
    },
    SetEnv {
        name: String,
        value: String,
    },
    AddPath(String),
}

/// Parse one output line; `None` when it is not a command.
pub fn parse(line: &str) -> Option<Command> {
    let rest = line.trim_start().strip_prefix("::")?;
    let (head, message) = rest.split_once("::")?;
    let (name, props) = head.split_once(' ').unwrap_or((head, ""));
    let message = unescape_data(message);
    let prop = |key: &str| {
        props.split(',').find_map(|p| {
            p.split_once('=').filter(|(k, _)| k.trim() == key).map(|(_, v)| unescape_property(v))
        })
    };
    Some(match name {
        "add-mask" => Command::AddMask(message),
        "group" => Command::Group(message),
        "endgroup" => Command::EndGroup,
        "debug" => Command::Debug(message),
        "stop-commands" => Command::StopCommands(message),
        "set-output" => Command::SetOutput { name: prop("name")?, value: message },
        "save-state" => Command::SaveState { name: prop("name")?, value: message },
        "set-env" => Command::SetEnv { name: prop("name")?, value: message },
        "add-path" => Command::AddPath(message),
        "error" | "warning" | "notice" => Command::Annotation {
            level: match name {
                "error" => "error",
                "warning" => "warning",
                _ => "notice",
            },
            message,
            file: prop("file"),
            line: prop("line"),
        },
        _ => return None,
    })
}

fn unescape_data(s: &str) -> String {
    s.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
}

fn unescape_property(s: &str) -> String {
    unescape_data(s).replace("%3A", ":").replace("%2C", ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(parse("::add-mask::hunter2"), Some(Command::AddMask("hunter2".into())));
        assert_eq!(parse("::group::Build"), Some(Command::Group("Build".into())));
        assert_eq!(parse("::endgroup::"), Some(Command::EndGroup));
        assert_eq!(
            parse("::error file=a.rs,line=3::bad%0Athing"),
            Some(Command::Annotation {
                level: "error",
                message: "bad\nthing".into(),
                file: Some("a.rs".into()),
                line: Some("3".into())
            })
        );
        assert_eq!(
            parse("::set-output name=v::a%0Ab"),
            Some(Command::SetOutput { name: "v".into(), value: "a\nb".into() })
        );
        assert_eq!(
            parse("::save-state name=s::1"),
            Some(Command::SaveState { name: "s".into(), value: "1".into() })
        );
        assert_eq!(
            parse("::set-env name=E::x"),
            Some(Command::SetEnv { name: "E".into(), value: "x".into() })
        );
        assert_eq!(parse("::add-path::/opt/bin"), Some(Command::AddPath("/opt/bin".into())));
        assert_eq!(parse("::set-output::no name"), None);
        assert_eq!(parse("echo ::add-mask::x"), None);
        assert_eq!(parse("::unknown::x"), None);
        assert_eq!(parse("plain"), None);
    }
}
