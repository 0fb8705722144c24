//! `bt-profile`: the `bt` command line under a CPU profiler (pprof) and a tracing layer that
//! times the phases (spans such as `load_data`, `simulate`, `report`). `cargo xtask profile`
//! builds it in the `profiling` profile and runs it with `BT_PROFILE_DIR` set; the outputs are
//! described in [`profiling`]. The shipped `bt` binary has no profiling code.

mod profiling;

use std::process::ExitCode;

fn main() -> ExitCode {
    let guard = match profiling::from_env() {
        Ok(guard) => guard,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(1);
        }
    };
    {
        use tracing_subscriber::{
            Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _,
        };
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_target(false)
            .without_time()
            .with_filter(tracing_subscriber::EnvFilter::new("warn"));
        // bt_cli::App::main keeps this subscriber (its own set-up finds one installed).
        tracing_subscriber::registry().with(fmt).with(profiling::phase_layer()).init();
    }
    let code = bt_cli::App::new(bt::strategies::Registry::builtin()).main(std::env::args_os());
    drop(guard);
    code
}
