// mimalloc: `pipe validate` allocates a small string or vector for every YAML node of every
// file, and glibc's malloc/free were a quarter of its time.
// Without transparent huge pages: they tripled peak RSS (46 MiB instead of 17).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(pipe::main());
}
