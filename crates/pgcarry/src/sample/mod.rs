//! The built-in sample application database. (stub: being written)
