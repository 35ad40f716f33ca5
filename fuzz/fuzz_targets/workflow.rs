//! The YAML loader and the validator on arbitrary text: any input gives diagnostics, never a
//! panic, a hang or unbounded memory. The first byte picks the front end (GitHub or GitLab).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pipe::source::Source;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest).into_owned();
    let path = if which & 1 == 0 { "fuzz.yml" } else { ".gitlab-ci.yml" };
    let checked = pipe::validate::check_source(Source::new(path, text));
    // Rendering walks every span: a span outside the text would panic here.
    let files = [checked];
    let _ = pipe::render::text(&files, false);
    let _ = pipe::render::json(&files);
});
