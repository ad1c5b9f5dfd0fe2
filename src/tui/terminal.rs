//! Owning the terminal: raw mode and the alternate screen, restored on every way
//! out (normal exit, error, panic, Ctrl-C, SIGINT/SIGTERM); and the UI loop, which
//! only turns actions into state and draws.

use super::action::Action;
use super::app::App;
use crossterm::event::{self, Event};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Put the terminal back as we found it. Safe to call more than once.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        crossterm::event::DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (early returns, errors).
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Enter raw mode and the alternate screen; a panic restores the terminal before
/// its message is printed, so the message is readable and the shell usable.
pub fn init() -> io::Result<(Term, Guard)> {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        prev(info);
    }));
    enable_raw_mode()?;
    let guard = Guard;
    execute!(
        io::stdout(),
        EnterAlternateScreen,
        crossterm::cursor::Hide,
        crossterm::event::EnableMouseCapture
    )?;
    let term = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((term, guard))
}

/// Read keys and resizes on their own thread; send a Tick when idle so running
/// clocks move. Ends when `stop` is set or the channel closes.
pub fn spawn_input(
    tx: UnboundedSender<Action>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let action = match event::poll(Duration::from_millis(250)) {
                Ok(true) => match event::read() {
                    Ok(Event::Key(k)) => Action::Key(k),
                    Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                    Ok(Event::Mouse(m)) => Action::Mouse(m),
                    Ok(_) => continue,
                    Err(_) => break,
                },
                Ok(false) => Action::Tick,
                Err(_) => break,
            };
            if tx.send(action).is_err() {
                break;
            }
        }
    })
}

/// The UI loop (blocking; run it on a thread of its own). Draws, then waits for
/// actions, applies every queued one, and draws again.
pub fn run_loop(
    term: &mut Term,
    app: &mut App,
    rx: &mut UnboundedReceiver<Action>,
) -> io::Result<()> {
    term.draw(|f| app.draw(f))?;
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        let mut applied = 0;
        while let Some(a) = next.take() {
            let mut follow = app.update(a);
            while let Some(f) = follow.take() {
                follow = app.update(f);
            }
            applied += 1;
            if app.should_quit || applied > 2000 {
                break;
            }
            next = rx.try_recv().ok();
        }
        if app.should_quit {
            break;
        }
        term.draw(|f| app.draw(f))?;
    }
    Ok(())
}

/// Forward SIGINT and SIGTERM (a Ctrl-C that did not come through the keyboard,
/// a `kill`) as a Quit, so the terminal is restored and the run stays resumable.
pub fn spawn_signals(tx: UnboundedSender<Action>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        let _ = tx.send(Action::Quit);
    });
}
