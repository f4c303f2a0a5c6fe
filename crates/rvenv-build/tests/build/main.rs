//! rvenv-build against real interpreters, real backends from PyPI and real git.
//!
//! One binary, so every test shares one cache and each build environment (setuptools,
//! flit-core, hatchling) is made once.

mod backends;
mod editable;
mod failures;
mod git;
mod interpreters;
mod isolation;
mod static_metadata;
mod support;
