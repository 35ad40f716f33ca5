//! Container and service `credentials`: a password written in the file is a leaked secret.

use crate::diagnostic::Diagnostic;
use crate::model::{Container, Pipeline};

pub fn check(p: &Pipeline, out: &mut Vec<Diagnostic>) {
    for job in &p.jobs {
        let containers = job.container.as_deref().into_iter().map(|c| ("container", c));
        let services = job.services.iter().map(|(id, c)| (id.as_str(), c));
        for (what, c) in containers.chain(services) {
            password(what, c, out);
        }
    }
}

fn password(what: &str, c: &Container, out: &mut Vec<Diagnostic>) {
    let Some((_, password)) = &c.credentials else { return };
    if !password.value.contains("${{") && !password.value.is_empty() {
        out.push(
            Diagnostic::warning(
                "credentials-literal",
                password.span,
                format!(
                    "the registry password of `{what}` is written in the file: anyone who can read it has it"
                ),
            )
            .with_help("store it as a secret and write `password: ${{ secrets.REGISTRY_PASSWORD }}`"),
        );
    }
}
