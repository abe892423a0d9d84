use std::process::ExitCode;

fn main() -> ExitCode {
    vaultferry::cli::main()
}
