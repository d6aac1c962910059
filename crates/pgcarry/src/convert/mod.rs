//! Converting source values into PostgreSQL binary values, exactly or not at all.
