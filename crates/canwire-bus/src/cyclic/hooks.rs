//! Callbacks of a cyclic task: an error sink and a per-send frame modifier.
//!
//! Both are called from the scheduler without waiting: the error sink gets
//! each failure as it happens; the modifier is asked, right after a frame
//! went, for that round-robin position's next content and answers later
//! through a [`ModifierReply`]. A task has at most one question open at a
//! time: sends while it is open ask nothing, and the next send after the
//! answer came (and its [`ModifierTurn`] ended) asks about that latest frame.
//! A position whose answer has not come when it is due again goes out with
//! its previous content (counted as late), so a slow modifier never delays a
//! frame, and the questions never pile up in the modifier's queue.

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
    /// Sent since its last answer while the modifier was in use: its next
    /// turn without an answer is late.
    owed: bool,
    answer: Option<Frame>,
}

/// Per-position answers of a task's modifier, its one open question, and its counters.
#[derive(Default)]
pub struct ModifierState {
    positions: Vec<Position>,
    /// A question is open, or its [`ModifierTurn`] has not ended yet.
    asking: bool,
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
    /// late turn when the position still waits for one.
    pub fn take_answer(&self, position: usize) -> Option<Frame> {
        let mut state = lock(&self.state);
        let p = state.positions.get_mut(position)?;
        match p.answer.take() {
            Some(frame) => Some(frame),
            None => {
                if p.owed {
                    state.late += 1;
                }
                None
            }
        }
    }

    /// After `frame` went at `position` as send `slot`: asks for its next
    /// content unless the task's question is open (the position then waits
    /// for a later turn). Call without holding scheduler locks.
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
            let open = state.asking;
            let Some(p) = state.positions.get_mut(position) else {
                return;
            };
            p.owed = true;
            if open {
                return;
            }
            state.asking = true;
        }
        let reply = ModifierReply {
            state: self.state.clone(),
            position,
            bus: bus.clone(),
            on_error,
            turn: ModifierTurn(Some(self.state.clone())),
            settled: false,
        };
        self.modifier.request(frame, slot, reply);
    }

    /// `(late, errors, last_error)`.
    pub fn counters(&self) -> (u64, u64, Option<String>) {
        let state = lock(&self.state);
        (state.late, state.errors, state.last_error.clone())
    }
}

/// The task's turn to ask its modifier: while it lives, the task asks
/// nothing more. A [`ModifierReply`] ends it when answered (or dropped)
/// unless [`ModifierReply::take_turn`] took it out to end it later.
#[derive(Default)]
pub struct ModifierTurn(Option<Arc<Mutex<ModifierState>>>);

impl Drop for ModifierTurn {
    fn drop(&mut self) {
        if let Some(state) = self.0.take() {
            lock(&state).asking = false;
        }
    }
}

/// The way back for one modifier question. Dropped unanswered, it leaves
/// the content as it is and lets the task ask again.
pub struct ModifierReply {
    state: Arc<Mutex<ModifierState>>,
    position: usize,
    bus: Arc<Bus>,
    on_error: Option<ErrorSink>,
    turn: ModifierTurn,
    settled: bool,
}

impl ModifierReply {
    /// Takes the task's turn out of this reply: the task then asks nothing
    /// more, even once this reply is answered, until the returned turn is
    /// dropped. For a modifier running on an event loop that must come
    /// around between two questions.
    pub fn take_turn(&mut self) -> ModifierTurn {
        std::mem::take(&mut self.turn)
    }

    /// The new content (`None`: keep the current one). It must be sendable on
    /// the task's bus; if not it is dropped and reported as an error.
    pub fn answer(mut self, frame: Option<Frame>) {
        match frame.map(|f| self.bus.check_sendable(&[f]).map(|()| f)) {
            Some(Err(e)) => self.fail(e),
            answer => self.settle(answer.and_then(Result::ok), None),
        }
    }

    /// The modifier failed: the content stays, the error is counted and reported.
    pub fn fail(mut self, error: CanwireError) {
        self.settle(None, Some(&error));
        if let Some(sink) = &self.on_error {
            sink(&error);
        }
    }

    /// Records the outcome for the position and ends the turn (unless taken).
    fn settle(&mut self, answer: Option<Frame>, error: Option<&CanwireError>) {
        self.settled = true;
        {
            let mut state = lock(&self.state);
            if let Some(p) = state.positions.get_mut(self.position) {
                p.owed = false;
                if answer.is_some() {
                    p.answer = answer;
                }
            }
            if let Some(error) = error {
                state.errors += 1;
                state.last_error = Some(error.to_string());
            }
        }
        self.turn = ModifierTurn::default();
    }
}

impl Drop for ModifierReply {
    fn drop(&mut self) {
        if !self.settled {
            self.settle(None, None);
        }
    }
}
