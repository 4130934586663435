//! The rules engine on its own: loading, choosing, mapping the sample feeds,
//! fixtures, and arbitrary input.

mod choosing;
mod feeds;
mod fixtures;
mod loading;
mod robustness;
