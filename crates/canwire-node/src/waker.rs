//! The one JS waker: every wait of the binding (reader frames, watch events,
//! ISO-TP payloads and transfer results, controller states, transmit room)
//! ends with a call of one JS function, made by the thread that changed the
//! state (one thread hop, no async runtime in between).
//!
//! The facade creates one [`NativeWaker`] and gives each wait a token. A
//! native object's `arm(waker, token)` leaves a [`ReadyHook`] under that token
//! on its [`canwire_bus::readiness::Readiness`]; when the state changes the
//! hook calls the JS function with the token, and the facade resolves the
//! waits of that token. `disarm(token)` drops a hook that has not run.
//!
//! The function is a weak threadsafe function: it keeps Node alive only while
//! [`NativeWaker::keep_alive`] says so (the facade turns it on while any wait
//! is armed), so an idle open bus never holds the process.

use std::sync::Arc;

use canwire_bus::readiness::ReadyHook;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

type WakeFunction = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// The JS function that ends waits, called with the token of the wait.
#[napi]
pub struct NativeWaker {
    wake: Arc<WakeFunction>,
}

#[napi]
impl NativeWaker {
    /// Wraps `callback`; it runs on the JS thread with a wait's token.
    #[napi(constructor, catch_unwind)]
    pub fn new(callback: Function<u32, ()>) -> napi::Result<Self> {
        let wake = callback
            .build_threadsafe_function::<u32>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|ctx| Ok(ctx.value))?;
        Ok(Self {
            wake: Arc::new(wake),
        })
    }

    /// Keeps Node alive (`true`) while some wait is armed, or lets it exit (`false`).
    #[napi(catch_unwind)]
    pub fn keep_alive(&self, env: Env, on: bool) -> napi::Result<()> {
        let raw = self.wake.raw();
        // SAFETY: a live threadsafe function created on this env; ref and unref are idempotent.
        let status = unsafe {
            if on {
                napi::sys::napi_ref_threadsafe_function(env.raw(), raw)
            } else {
                napi::sys::napi_unref_threadsafe_function(env.raw(), raw)
            }
        };
        if status == napi::sys::Status::napi_ok {
            Ok(())
        } else {
            Err(napi::Error::from_reason(format!(
                "ERR_INTERNAL: Node-API status {status} from the waker"
            )))
        }
    }
}

impl NativeWaker {
    /// A hook that wakes the waits of `token`, from whatever thread runs it.
    pub fn hook(&self, token: u32) -> ReadyHook {
        let wake = self.wake.clone();
        Box::new(move || {
            wake.call(token, ThreadsafeFunctionCallMode::NonBlocking);
        })
    }
}

/// The readiness key of a wait's token.
pub fn key(token: u32) -> u64 {
    u64::from(token)
}
