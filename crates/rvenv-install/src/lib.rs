//! rvenv-install
