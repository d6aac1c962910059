//! A throw-away local PostgreSQL cluster. (stub: being written)
