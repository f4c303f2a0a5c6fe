//! rvenv-resolve
