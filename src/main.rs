fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(pairctl::run())
}
