//! Callbacks of a cyclic task: an error sink and a per-send frame modifier.
//!
//! Both are called from the scheduler without waiting: the error sink gets
//! each failure as it happens; the modifier is asked, right after a frame
//! went, for that round-robin position's next content and answers later
//! through a [`ModifierReply`]. A position whose answer has not come when it
//! is due again goes out with its previous content (counted as late) and is
//! not asked again until the answer comes, so at most one question per
//! position is ever outstanding and a slow modifier never delays a frame.

use std::sync::{Arc, Mutex, MutexGuard};

use canwire_core::{CanwireError, Frame};

use crate::bus::Bus;

/// Receives a task's errors (failed sends, bad modifier answers); must not block.
pub type ErrorSink = Arc<dyn Fn(&CanwireError) + Send + Sync>;

/// Produces the next content of a frame after each send; must not block.
pub trait FrameModifier: Send + Sync {
    /// `frame` just went out as send number `slot`; answer through `reply`
    /// (now or later, from any thread).
    fn request(&self, frame: &Frame, slot: u64, reply: ModifierReply);
}

/// What a task needs beyond its frames and timing.
#[derive(Clone, Default)]
pub struct TaskHooks {
    /// Called with every error of the task.
    pub on_error: Option<ErrorSink>,
    /// Asked for each frame's next content after it is sent (native scheduler only).
    pub modifier: Option<Arc<dyn FrameModifier>>,
}

#[derive(Default, Clone, Copy)]
struct Position {
    asked: bool,
    answer: Option<Frame>,
}

/// Per-position questions and answers of a task's modifier, and its counters.
#[derive(Default)]
pub struct ModifierState {
    positions: Vec<Position>,
    /// Turns that went out with their previous content because the answer was late.
    pub late: u64,
    /// Answers that were invalid, or the modifier failed.
    pub errors: u64,
    /// The last of those errors.
    pub last_error: Option<String>,
}

/// A task's modifier with its shared state.
pub struct ModifierLink {
    modifier: Arc<dyn FrameModifier>,
    state: Arc<Mutex<ModifierState>>,
}

fn lock(state: &Mutex<ModifierState>) -> MutexGuard<'_, ModifierState> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl ModifierLink {
    /// A link for a task of `positions` frames.
    pub fn new(modifier: Arc<dyn FrameModifier>, positions: usize) -> Self {
        Self {
            modifier,
            state: Arc::new(Mutex::new(ModifierState {
                positions: vec![Position::default(); positions],
                ..ModifierState::default()
            })),
        }
    }

    /// Before sending `position`: its answered content, if one came; counts a
    /// late turn when the question is still open.
    pub fn take_answer(&self, position: usize) -> Option<Frame> {
        let mut state = lock(&self.state);
        let p = state.positions.get_mut(position)?;
        match p.answer.take() {
            Some(frame) => Some(frame),
            None => {
                if p.asked {
                    state.late += 1;
                }
                None
            }
        }
    }

    /// After `frame` went at `position` as send `slot`: asks for its next
    /// content unless a question is open. Call without holding scheduler locks.
    pub fn ask(
        &self,
        position: usize,
        frame: &Frame,
        slot: u64,
        bus: &Arc<Bus>,
        on_error: Option<ErrorSink>,
    ) {
        {
            let mut state = lock(&self.state);
            let Some(p) = state.positions.get_mut(position) else {
                return;
            };
            if p.asked {
                return;
            }
            p.asked = true;
        }
        let reply = ModifierReply {
            state: self.state.clone(),
            position,
            bus: bus.clone(),
            on_error,
        };
        self.modifier.request(frame, slot, reply);
    }

    /// `(late, errors, last_error)`.
    pub fn counters(&self) -> (u64, u64, Option<String>) {
        let state = lock(&self.state);
        (state.late, state.errors, state.last_error.clone())
    }
}

/// The way back for one modifier question. Dropped unanswered, it leaves
/// the content as it is and lets the position be asked again.
pub struct ModifierReply {
    state: Arc<Mutex<ModifierState>>,
    position: usize,
    bus: Arc<Bus>,
    on_error: Option<ErrorSink>,
}

impl ModifierReply {
    /// The new content (`None`: keep the current one). It must be sendable on
    /// the task's bus; if not it is dropped and reported as an error.
    pub fn answer(self, frame: Option<Frame>) {
        match frame.map(|f| self.bus.check_sendable(&[f]).map(|()| f)) {
            Some(Err(e)) => self.fail(e),
            answer => {
                let mut state = lock(&self.state);
                if let Some(p) = state.positions.get_mut(self.position) {
                    p.asked = false;
                    p.answer = answer.and_then(Result::ok);
                }
            }
        }
    }

    /// The modifier failed: the content stays, the error is counted and reported.
    pub fn fail(self, error: CanwireError) {
        {
            let mut state = lock(&self.state);
            if let Some(p) = state.positions.get_mut(self.position) {
                p.asked = false;
            }
            state.errors += 1;
            state.last_error = Some(error.to_string());
        }
        if let Some(sink) = &self.on_error {
            sink(&error);
        }
    }
}

impl Drop for ModifierReply {
    fn drop(&mut self) {
        if let Some(p) = lock(&self.state).positions.get_mut(self.position) {
            p.asked = false;
        }
    }
}
