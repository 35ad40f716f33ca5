// mimalloc: `pipe validate` allocates a small string or vector for every YAML node of every
// file, and glibc's malloc/free were a quarter of its time.
// Without transparent huge pages: they tripled peak RSS (46 MiB instead of 17).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 2's option list: how long freed memory stays committed.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Freed pages go back to the system at once: a step printing hundreds of megabytes passes
    // them through pipe's buffers, and the default 10 ms delay kept RSS above 30 MB. Commands
    // that only read files keep the default: purging at once made a 100,000-job `validate`
    // fault the same pages in again and again (half its time in the kernel).
    if !reads_files_only(std::env::args().skip(1)) {
        // SAFETY: setting an option is allowed at any time and touches no memory of ours.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0)
        };
    }
    std::process::exit(pipe::main());
}

/// Whether the command named on the command line only reads files (`validate`, `plan`): the
/// first argument that is neither an option nor the value of a global option.
fn reads_files_only(mut args: impl Iterator<Item = String>) -> bool {
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--state-dir" | "--color" => {
                args.next();
            }
            a if a.starts_with('-') => {}
            a => return matches!(a, "validate" | "plan"),
        }
    }
    false
}
