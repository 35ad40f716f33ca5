// mimalloc: `pipe validate` allocates a small string or vector for every YAML node of every
// file, and glibc's malloc/free were a quarter of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(pipe::main());
}
