//! Connection settings the way libpq users expect them. (stub: being written)
