//! rvenv-testkit
