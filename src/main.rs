// mimalloc: `pipe validate` allocates a small string or vector for every YAML node of every
// file, and glibc's malloc/free were a quarter of its time.
// Without transparent huge pages: they tripled peak RSS (46 MiB instead of 17).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 2's option list: how long freed memory stays committed.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Freed pages go back to the system at once: a step printing hundreds of megabytes passes
    // them through pipe's buffers, and the default 10 ms delay kept RSS above 30 MB.
    // SAFETY: setting an option is allowed at any time and touches no memory of ours.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0)
    };
    std::process::exit(pipe::main());
}
