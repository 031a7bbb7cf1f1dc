//! [`Session`]: one connection's state machine, NO_BUS → BCM/RAW/CONTROL/
//! ISO-TP, as socketcand runs it. It takes elements and timer expiries and
//! hands back writes ([`Output`]); the socket loop (`connection`) drives it.
//!
//! | state | element | reply |
//! |---|---|---|
//! | NO_BUS | `< open BUS >` (exported) | `< ok >`, state BCM |
//! | NO_BUS | `< open BUS >` (not exported, or a name over 15 chars) | `< error could not open bus >`, close |
//! | NO_BUS | `< BUS B … >`, `< BUS C … >` | refused (`< error configuring interface BUS > \n`, close) unless `allow_reconfigure`; see [`super::reconfigure`] |
//! | NO_BUS | anything else | `< error unknown command >` then `< ok >` |
//! | any mode | another mode's switch | `< ok >` (old mode's jobs and queue dropped) |
//! | any mode | its own switch, a command of another mode | `< error unknown command >` |
//! | any mode | `< echo >` | `< echo >` |
//! | any mode | a known command with wrong fields | nothing (counted) |
//! | ISO-TP before `isotpconf` | anything but a mode switch, echo, isotpconf | nothing |
//! | read-only | `send`, `sendfd`, `add`, `update`, `sendpdu` | `< error read-only server >` |

use std::sync::Arc;
use std::time::Instant;

use canwire_bus::Bus;
use canwire_bus::readiness::ReadyHook;
use canwire_core::Frame;

use super::bcm_mode::BcmMode;
use super::config::ServerConfig;
use super::control_mode::ControlMode;
use super::counters::ServerCounters;
use super::hub::BusHub;
use super::isotp_mode::IsoTpMode;
use super::output::Output;
use super::raw_mode::RawMode;
use super::reconfigure;
use crate::protocol::{Command, Mode, ReadElement, format, parse_command};

/// The reply to a command read-only mode refuses.
pub const READ_ONLY: &[u8] = b"< error read-only server >";

/// What every mode needs: the connection's bus and the server's settings.
pub struct SessionContext {
    /// The server's configuration.
    pub config: Arc<ServerConfig>,
    /// The server's counters.
    pub counters: Arc<ServerCounters>,
    /// The exported bus's hub.
    pub hub: Arc<BusHub>,
    /// This connection's view of the bus.
    pub bus: Arc<Bus>,
}

impl SessionContext {
    /// Sends a frame on the connection's view; a failure is counted.
    pub fn send(&self, frame: &Frame) {
        if self
            .bus
            .send(std::slice::from_ref(frame))
            .map_or(true, |n| n == 0)
        {
            self.send_failed();
        }
    }

    /// Counts a send that failed.
    pub fn send_failed(&self) {
        ServerCounters::bump(&self.counters.send_errors);
    }

    /// Counts a command whose fields were wrong.
    pub fn malformed(&self) {
        ServerCounters::bump(&self.counters.malformed);
    }

    /// Counts a frame not representable to this client.
    pub fn skipped(&self) {
        ServerCounters::bump(&self.counters.skipped_frames);
    }

    /// Writes `reply` and counts a refused command.
    pub fn refuse(&self, out: &mut Output, reply: &[u8]) {
        ServerCounters::bump(&self.counters.refused_commands);
        out.separate(reply);
    }

    /// Refuses a transmitting command on a read-only server; true if refused.
    pub fn refuse_if_read_only(&self, out: &mut Output) -> bool {
        if self.config.read_only {
            self.refuse(out, READ_ONLY);
        }
        self.config.read_only
    }
}

enum ModeState {
    Bcm(BcmMode),
    Raw(RawMode),
    Control(ControlMode),
    IsoTp(IsoTpMode),
}

impl ModeState {
    fn mode(&self) -> Mode {
        match self {
            ModeState::Bcm(_) => Mode::Bcm,
            ModeState::Raw(_) => Mode::Raw,
            ModeState::Control(_) => Mode::Control,
            ModeState::IsoTp(_) => Mode::IsoTp,
        }
    }
}

struct Opened {
    ctx: SessionContext,
    mode: ModeState,
}

/// One connection's protocol state.
pub struct Session {
    config: Arc<ServerConfig>,
    counters: Arc<ServerCounters>,
    hubs: Arc<std::collections::HashMap<String, Arc<BusHub>>>,
    opened: Option<Opened>,
}

/// True when `mode` knows the command word (a malformed command is then
/// silent, as socketcand only logs it; elsewhere it is an unknown command).
fn known_in(command: &str, mode: Mode, fd: bool) -> bool {
    match command {
        "send" => matches!(mode, Mode::Raw | Mode::Bcm),
        "sendfd" => fd && mode == Mode::Raw,
        "add" | "update" | "delete" | "filter" | "muxfilter" | "subscribe" | "unsubscribe" => {
            mode == Mode::Bcm
        }
        "statistics" => mode == Mode::Control,
        "isotpconf" | "sendpdu" => mode == Mode::IsoTp,
        _ => false,
    }
}

/// Whether something can wake a connection for output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readable {
    /// A hook is armed and runs when something arrives.
    Armed,
    /// Something waits already: drain it.
    Ready,
    /// Nothing can arrive in this state.
    Never,
}

fn readable(armed: Option<bool>) -> Readable {
    match armed {
        None => Readable::Never,
        Some(true) => Readable::Armed,
        Some(false) => Readable::Ready,
    }
}

impl Session {
    /// A session in NO_BUS.
    pub fn new(
        config: Arc<ServerConfig>,
        counters: Arc<ServerCounters>,
        hubs: Arc<std::collections::HashMap<String, Arc<BusHub>>>,
    ) -> Self {
        Self {
            config,
            counters,
            hubs,
            opened: None,
        }
    }

    /// True once `< open … >` succeeded.
    pub fn is_open(&self) -> bool {
        self.opened.is_some()
    }

    /// Handles one element from the client.
    pub fn handle(&mut self, element: ReadElement, now: Instant, out: &mut Output) {
        let ReadElement::Element(bytes) = element else {
            ServerCounters::bump(&self.counters.oversize);
            return;
        };
        let parsed = parse_command(&bytes);
        match &mut self.opened {
            None => self.handle_no_bus(parsed, out),
            Some(opened) => {
                let command = match parsed {
                    Ok(command) => command,
                    Err(malformed) => {
                        let unconfigured_isotp =
                            matches!(&opened.mode, ModeState::IsoTp(i) if !i.is_configured());
                        if unconfigured_isotp
                            || known_in(&malformed.command, opened.mode.mode(), self.config.fd)
                        {
                            ServerCounters::bump(&self.counters.malformed);
                        } else {
                            self.unknown(out);
                        }
                        return;
                    }
                };
                Self::handle_open(opened, &self.counters, command, now, out);
            }
        }
    }

    fn unknown(&self, out: &mut Output) {
        ServerCounters::bump(&self.counters.unknown);
        out.separate(format::UNKNOWN_COMMAND);
    }

    fn handle_no_bus(
        &mut self,
        parsed: Result<Command, crate::protocol::Malformed>,
        out: &mut Output,
    ) {
        match parsed {
            Ok(Command::Open(name)) => {
                let Some(hub) = self.hubs.get(&name) else {
                    return out.fail(format::COULD_NOT_OPEN_BUS);
                };
                let Ok(bus) = hub.attach() else {
                    return out.fail(format::COULD_NOT_OPEN_BUS);
                };
                out.separate(format::OK);
                self.opened = Some(Opened {
                    ctx: SessionContext {
                        config: self.config.clone(),
                        counters: self.counters.clone(),
                        hub: hub.clone(),
                        bus,
                    },
                    mode: ModeState::Bcm(BcmMode::default()),
                });
            }
            Err(m) if m.command == "open" => out.fail(format::COULD_NOT_OPEN_BUS),
            Ok(Command::Configure { bus, op, change }) => self.configure(&bus, op, change, out),
            _ => {
                self.unknown(out);
                out.separate(format::OK);
            }
        }
    }

    /// `< BUS B … >` / `< BUS C … >`: applied only when allowed, on a SocketCAN bus.
    fn configure(
        &self,
        bus: &str,
        op: char,
        change: Option<crate::protocol::BusChange>,
        out: &mut Output,
    ) {
        let hub = self.hubs.get(bus);
        let plan = change.as_ref().and_then(reconfigure::plan_of);
        let (Some(hub), Some(plan), true, false) = (
            hub,
            plan,
            self.config.allow_reconfigure,
            self.config.read_only,
        ) else {
            ServerCounters::bump(&self.counters.refused_commands);
            return out.fail(&reconfigure::error_reply(bus));
        };
        let Some(interface) = hub.bus().socketcan().map(|s| s.interface().to_string()) else {
            ServerCounters::bump(&self.counters.refused_commands);
            return out.fail(&reconfigure::not_supported_reply(op));
        };
        if interface.is_empty() {
            return out.fail(&reconfigure::not_supported_reply(op));
        }
        match canwire_bus::socketcan::configure_controller(&interface, plan) {
            Ok(()) => out.separate(format::OK),
            Err(error) => {
                ServerCounters::bump(&self.counters.refused_commands);
                out.fail(&reconfigure::failure_reply(bus, op, error.code));
            }
        }
    }

    fn handle_open(
        opened: &mut Opened,
        counters: &Arc<ServerCounters>,
        command: Command,
        now: Instant,
        out: &mut Output,
    ) {
        let ctx = &opened.ctx;
        let unknown = |out: &mut Output| {
            ServerCounters::bump(&counters.unknown);
            out.separate(format::UNKNOWN_COMMAND);
        };
        match command {
            Command::Echo => out.separate(format::ECHO),
            Command::SwitchMode(mode) if mode == opened.mode.mode() => unknown(out),
            Command::SwitchMode(mode) => {
                // The old mode's queue, jobs and stack go first, as socketcand closes its socket.
                opened.mode = ModeState::Control(ControlMode::default());
                let next = match mode {
                    Mode::Bcm => Some(ModeState::Bcm(BcmMode::default())),
                    Mode::Raw => RawMode::enter(ctx, now).ok().map(ModeState::Raw),
                    Mode::Control => Some(ModeState::Control(ControlMode::default())),
                    Mode::IsoTp => Some(ModeState::IsoTp(IsoTpMode::default())),
                };
                match next {
                    Some(next) => {
                        opened.mode = next;
                        out.separate(format::OK);
                    }
                    None => out.fail(b"< error could not switch mode >"),
                }
            }
            Command::Send(frame)
                if matches!(opened.mode, ModeState::Raw(_))
                    && (!frame.is_fd() || ctx.config.fd) =>
            {
                if !ctx.refuse_if_read_only(out) {
                    ctx.send(&frame);
                }
            }
            command => {
                let handled = match &mut opened.mode {
                    ModeState::Bcm(bcm) => bcm.handle(ctx, command, now, out),
                    ModeState::Control(control) => control.handle(command, now),
                    ModeState::IsoTp(isotp) => {
                        isotp.handle(ctx, command, out) || !isotp.is_configured()
                    }
                    ModeState::Raw(_) => false,
                };
                if !handled {
                    unknown(out);
                }
            }
        }
    }

    /// The next instant a timer of the mode is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.opened.as_ref()?.mode {
            ModeState::Bcm(bcm) => bcm.poll_timeout(),
            ModeState::Raw(raw) => raw.poll_timeout(),
            ModeState::Control(control) => control.poll_timeout(),
            ModeState::IsoTp(_) => None,
        }
    }

    /// Runs the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant, out: &mut Output) {
        let Some(opened) = &mut self.opened else {
            return;
        };
        match &mut opened.mode {
            ModeState::Bcm(bcm) => bcm.handle_timeout(now, out),
            ModeState::Raw(raw) => raw.handle_timeout(now),
            ModeState::Control(control) => control.handle_timeout(&opened.ctx, now, out),
            ModeState::IsoTp(_) => {}
        }
    }

    /// Formats what waits for the client (frames, payloads); false when nothing did.
    pub fn drain(&mut self, out: &mut Output) -> bool {
        let Some(opened) = &mut self.opened else {
            return false;
        };
        match &mut opened.mode {
            ModeState::Bcm(bcm) => bcm.drain(out),
            ModeState::Raw(raw) => raw.drain(&opened.ctx, out),
            ModeState::Control(_) => false,
            ModeState::IsoTp(isotp) => isotp.drain(out),
        }
    }

    /// Leaves `hook` to run when something arrives for the client.
    pub fn notify_when_readable(&self, key: u64, hook: ReadyHook) -> Readable {
        let Some(opened) = &self.opened else {
            return Readable::Never;
        };
        readable(match &opened.mode {
            ModeState::Bcm(bcm) => bcm.readable().map(|q| q.notify_once(key, hook)),
            ModeState::Raw(raw) => raw.readable().map(|q| q.notify_once(key, hook)),
            ModeState::Control(_) => None,
            ModeState::IsoTp(isotp) => isotp
                .stack()
                .map(|s| s.inbox().notify_when_readable(key, hook)),
        })
    }

    /// Drops a hook left by [`Session::notify_when_readable`].
    pub fn cancel_notify(&self, key: u64) {
        let Some(opened) = &self.opened else { return };
        match &opened.mode {
            ModeState::Bcm(bcm) => {
                if let Some(q) = bcm.readable() {
                    q.cancel_notify(key);
                }
            }
            ModeState::Raw(raw) => {
                if let Some(q) = raw.readable() {
                    q.cancel_notify(key);
                }
            }
            ModeState::Control(_) => {}
            ModeState::IsoTp(isotp) => {
                if let Some(s) = isotp.stack() {
                    s.inbox().cancel_notify(key);
                }
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(opened) = self.opened.take() {
            drop(opened.mode);
            opened.ctx.bus.close();
        }
    }
}

impl Session {
    /// True when the bus this connection opened was closed under it.
    pub fn bus_closed(&self) -> bool {
        self.opened
            .as_ref()
            .is_some_and(|o| o.ctx.bus.is_closed() || o.ctx.hub.bus().is_closed())
    }
}
