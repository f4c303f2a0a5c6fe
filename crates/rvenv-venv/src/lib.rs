//! rvenv-venv
