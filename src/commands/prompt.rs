//! The gate prompt on a terminal. Standard input is read by a thread of its own, line by line,
//! into a channel, so a question can be asked, withdrawn (answered from another terminal) or
//! interrupted (Ctrl-C) without a read blocking anything; questions are asked one at a time.

use std::future::Future;
use std::io::{BufRead, Write};
use std::pin::Pin;
use std::sync::{Mutex, OnceLock};

use tokio::sync::mpsc;

use crate::runner::gate::{GateQuestion, PromptAnswer, Prompter};

#[derive(Default)]
pub struct TerminalPrompter {
    /// Lines of standard input (closed at end of input); the reader starts at the first question.
    lines: OnceLock<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>,
    /// The environment whose question is on the screen.
    shown: Mutex<Option<String>>,
    /// The run's reporters: their terminal display steps aside while a question is shown.
    display: Option<crate::runner::emitter::Emitter>,
}

impl TerminalPrompter {
    /// A prompter that holds the live display of `emitter`'s reporters while it asks.
    pub fn holding(emitter: crate::runner::emitter::Emitter) -> Self {
        TerminalPrompter { display: Some(emitter), ..TerminalPrompter::default() }
    }

    fn lines(&self) -> &tokio::sync::Mutex<mpsc::UnboundedReceiver<String>> {
        self.lines.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            // A plain thread: a read of the terminal cannot be cancelled, and the process must
            // be able to end while one is pending.
            std::thread::spawn(move || {
                for line in std::io::stdin().lock().lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            tokio::sync::Mutex::new(rx)
        })
    }

    fn set_shown(&self, environment: Option<&str>) {
        if let Ok(mut shown) = self.shown.lock() {
            *shown = environment.map(str::to_string);
        }
    }
}

impl Prompter for TerminalPrompter {
    fn ask<'a>(
        &'a self,
        question: &'a GateQuestion,
    ) -> Pin<Box<dyn Future<Output = Option<PromptAnswer>> + Send + 'a>> {
        Box::pin(async move {
            let mut lines = self.lines().lock().await;
            // Until the answer, or until the question is withdrawn (this future dropped).
            let _hold = self.display.as_ref().map(crate::runner::emitter::Emitter::hold_display);
            let _ = write!(std::io::stderr(), "{}", describe(question));
            self.set_shown(Some(&question.environment));
            let answer = loop {
                say(&format!("Approve as {}? [y]es / [n]o: ", question.identity));
                let Some(line) = lines.recv().await else { break None };
                let approved = match line.trim().to_ascii_lowercase().as_str() {
                    "y" | "yes" => true,
                    "n" | "no" => false,
                    _ => continue,
                };
                say("Comment (optional): ");
                let comment = lines.recv().await.map(|c| c.trim().to_string()).filter(|c| !c.is_empty());
                break Some(PromptAnswer { approved, comment });
            };
            self.set_shown(None);
            answer
        })
    }

    fn withdraw(&self, question: &GateQuestion, message: &str) {
        let on_screen = self.shown.lock().is_ok_and(|s| s.as_deref() == Some(question.environment.as_str()));
        if on_screen {
            self.set_shown(None);
            let _ = writeln!(std::io::stderr(), "\n{message}");
        }
    }

    fn interrupted(&self) {
        let on_screen = self.shown.lock().is_ok_and(|s| s.is_some());
        if on_screen {
            self.set_shown(None);
            // What pipe says next starts on a line of its own, not after the question.
            let _ = writeln!(std::io::stderr());
        }
    }
}

fn say(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{text}");
    let _ = err.flush();
}

/// The question's lines, as shown above the prompt.
fn describe(q: &GateQuestion) -> String {
    let sha: String = q.sha.chars().take(12).collect();
    let mut text = format!("\nDeploy to `{}`?\n", q.environment);
    text.push_str(&format!("  job:       {} ({})\n", q.job_name, q.job));
    text.push_str(&format!("  commit:    {sha} on {}\n", q.git_ref));
    for (name, value) in &q.artifacts {
        text.push_str(&format!("  artifact:  {name} = {value}\n"));
    }
    let passed = if q.passed.is_empty() { "-".to_string() } else { q.passed.join(", ") };
    text.push_str(&format!("  passed:    {passed}\n"));
    if let Some(u) = &q.url {
        text.push_str(&format!("  url:       {u}\n"));
    }
    if let Some(r) = &q.reviewers {
        text.push_str(&format!("  reviewers: {}\n", r.join(", ")));
    }
    text
}
