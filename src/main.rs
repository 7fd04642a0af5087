//! The `credence` command: a thin edge over the `credence` library (see `src/cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
