//! `gonpack encode` and `gonpack add`: run by the `gonpack-train` program, which links libtorch.
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use clap::Args;

use gonpack::{Error, Result};

/// The program that trains and encodes, looked for next to `gonpack`, then on `PATH`.
pub const TRAIN_PROGRAM: &str = "gonpack-train";
/// Environment variable naming the `gonpack-train` program to run instead.
pub const TRAIN_PROGRAM_ENV: &str = "GONPACK_TRAIN";

/// The arguments of a command `gonpack-train` runs, passed on unparsed (`--help` included).
#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct Forwarded {
    /// Arguments for gonpack-train (see `gonpack COMMAND --help`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    args: Vec<OsString>,
}

/// Runs `gonpack-train COMMAND ARGS…`. On Unix it replaces this process, so its output and exit
/// status are the command's own; returning at all means it could not be started.
pub fn forward(command: &str, forwarded: Forwarded) -> Result<()> {
    let program = train_program();
    let mut child = Command::new(&program);
    child.arg(command).args(&forwarded.args);
    #[cfg(unix)]
    let err = std::os::unix::process::CommandExt::exec(&mut child);
    #[cfg(not(unix))]
    let err = match child.status() {
        Ok(status) => std::process::exit(status.code().unwrap_or(1)),
        Err(e) => e,
    };
    Err(Error::Unsupported(format!(
        "`gonpack {command}` runs {} ({err}); build it with `make build` or `cargo build --release -p gonpack-train` (it needs libtorch), or name it in {TRAIN_PROGRAM_ENV}",
        program.display()
    )))
}

/// `$GONPACK_TRAIN`, else `gonpack-train` next to this executable, else on `PATH`.
fn train_program() -> PathBuf {
    if let Some(p) = std::env::var_os(TRAIN_PROGRAM_ENV) {
        return p.into();
    }
    let exe_name = format!("{TRAIN_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name(&exe_name))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| exe_name.into())
}
