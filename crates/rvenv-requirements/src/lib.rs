//! rvenv-requirements: pip's requirements-file format.
