//! rvenv-index: package indexes, downloads and the cache.
