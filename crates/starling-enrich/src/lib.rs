//! Enrichment of posts: language, sentiment, place and links.
//!
//! Everything here is pure and deterministic: the same text gives the same answer on every
//! machine, live or on a replay. The models are compiled into the binary (see `models/`,
//! each with the command that regenerates it), so nothing is loaded from the network.

pub mod langid;
pub mod sentiment;
