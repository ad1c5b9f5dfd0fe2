/// Output to a closed pipe (`cutover status | head -1`) ends the process quietly with
/// the shell's code for SIGPIPE (141) instead of a panic. The signal itself stays
/// ignored, so a child process or socket that goes away is an error, not a kill.
fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        previous(info);
    }));
}

fn main() {
    quiet_on_closed_pipe();
    let cli = match cutover::cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                cutover::error::exit::BAD_INPUT
            } else {
                0
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = rt.block_on(async {
        match cutover::cli::dispatch(cli).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {}", cutover::redact::scrub(&e.to_string()));
                e.exit_code()
            }
        }
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(2));
    std::process::exit(code);
}
