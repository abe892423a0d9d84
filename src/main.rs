use std::process::ExitCode;

/// See Cargo.toml: the parse allocates and frees millions of small strings
/// across threads, which glibc malloc serializes.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    vaultferry::cli::main()
}
