//! The `jumpstarter.v1` messages and services, generated at build time from
//! `proto/jumpstarter/v1/*.proto`.

#![allow(missing_docs, clippy::all)]

tonic::include_proto!("jumpstarter.v1");
