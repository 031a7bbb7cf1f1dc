//! The periodic tasks clients created on one `Can` export, by uuid, run by
//! canwire's native cyclic scheduler. As in the Python driver, a task stays
//! in the table (and keeps running) after its client disconnects, until
//! `_stop_task` removes it; a missing uuid is Python's KeyError text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use canwire_bus::Bus;
use canwire_bus::cyclic::{CyclicTask, SchedulerKind, TaskHooks};
use canwire_core::Frame;
use canwire_core::cyclic::CyclicTiming;
use tonic::Status;
use uuid::Uuid;

use super::budget::{Budget, BudgetSlot};
use super::call_status::status_of;

struct Entry {
    task: CyclicTask,
    _slot: BudgetSlot,
}

/// The tasks of one export.
pub struct PeriodicTasks {
    tasks: Mutex<HashMap<Uuid, Entry>>,
    budget: Budget,
}

/// UNKNOWN `UUID('…')`: the KeyError text of the Python driver.
fn missing(uuid: &Uuid) -> Status {
    Status::unknown(format!("UUID('{}')", uuid.hyphenated()))
}

impl PeriodicTasks {
    /// An empty table drawing slots from `budget` (shared by the server).
    pub fn new(budget: Budget) -> Self {
        Self {
            tasks: Mutex::default(),
            budget,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Entry>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a task sending `frames` round-robin on `bus`; returns its uuid.
    pub fn create(
        &self,
        bus: &Arc<Bus>,
        frames: Vec<Frame>,
        timing: CyclicTiming,
        autostart: bool,
    ) -> Result<Uuid, Status> {
        let slot = self.budget.take().ok_or_else(|| {
            Status::resource_exhausted(format!(
                "this exporter runs at most {} periodic tasks; stop one with _stop_task first",
                self.budget.max()
            ))
        })?;
        let task = CyclicTask::create(
            bus.clone(),
            frames,
            timing,
            autostart,
            SchedulerKind::Native,
            TaskHooks::default(),
        )
        .map_err(|e| status_of(&e))?;
        let uuid = Uuid::new_v4();
        self.lock().insert(uuid, Entry { task, _slot: slot });
        Ok(uuid)
    }

    /// (Re)starts a task.
    pub fn start(&self, uuid: &Uuid) -> Result<(), Status> {
        let tasks = self.lock();
        let entry = tasks.get(uuid).ok_or_else(|| missing(uuid))?;
        entry.task.start().map_err(|e| status_of(&e))
    }

    /// Stops a task and removes it (a second stop is UNKNOWN, as in Python).
    pub fn stop(&self, uuid: &Uuid) -> Result<(), Status> {
        let entry = self.lock().remove(uuid).ok_or_else(|| missing(uuid))?;
        entry.task.remove();
        Ok(())
    }

    /// Number of tasks in the table.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no task is in the table.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes every task (server close, bus shutdown).
    pub fn clear(&self) {
        let drained: Vec<Entry> = self.lock().drain().map(|(_, e)| e).collect();
        for entry in &drained {
            entry.task.remove();
        }
    }
}
