//! Integration tests: the real `pgcarry` binary against a real PostgreSQL started for the run.
