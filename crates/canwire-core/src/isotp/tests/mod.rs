//! Deterministic virtual-clock tests: exact frame bytes and exact event codes.

mod addressing;
mod fd;
mod fuzz;
mod loopback;
mod params;
mod rate_limit;
mod receive;
mod receive_errors;
mod send;
mod send_flow_control;
mod session;
mod support;
