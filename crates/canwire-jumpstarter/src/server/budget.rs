//! A bounded count of things clients create (periodic tasks, receive
//! streams): taking a slot fails at the bound, dropping the slot frees it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Up to `max` slots shared by every client of a server.
#[derive(Clone)]
pub struct Budget {
    used: Arc<AtomicUsize>,
    max: usize,
}

/// One slot of a [`Budget`], freed on drop.
pub struct BudgetSlot {
    used: Arc<AtomicUsize>,
}

impl Budget {
    /// A budget of `max` slots.
    pub fn new(max: usize) -> Self {
        Self {
            used: Arc::default(),
            max,
        }
    }

    /// The bound.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot, or `None` when all `max` are taken.
    pub fn take(&self) -> Option<BudgetSlot> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max).then_some(n + 1)
            })
            .ok()
            .map(|_| BudgetSlot {
                used: self.used.clone(),
            })
    }
}

impl Drop for BudgetSlot {
    fn drop(&mut self) {
        self.used.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_run_out_at_the_bound_and_come_back_on_drop() {
        let budget = Budget::new(2);
        let a = budget.take().unwrap();
        let _b = budget.take().unwrap();
        assert!(budget.take().is_none());
        drop(a);
        assert!(budget.take().is_some());
    }
}
