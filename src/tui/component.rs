//! The component contract (after ratatui's component template and rainfrog): a
//! component turns keys into [`Action`]s, reacts to actions, and draws itself.

use super::action::Action;
use super::state::AppState;
use super::theme::Theme;
use crossterm::event::KeyEvent;
use ratatui::Frame;
use ratatui::layout::Rect;

pub trait Component {
    /// A key pressed while this component has focus. `None`: not handled here.
    fn handle_key(&mut self, key: KeyEvent, state: &AppState) -> Option<Action>;
    /// React to an action (e.g. reset scroll when the selection changes).
    fn update(&mut self, _action: &Action, _state: &AppState) -> Option<Action> {
        None
    }
    fn draw(&mut self, f: &mut Frame, area: Rect, state: &AppState, theme: &Theme, focused: bool);
}
