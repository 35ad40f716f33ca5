fn main() {
    std::process::exit(pipe::main());
}
