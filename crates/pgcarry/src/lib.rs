//! pgcarry carries an application's data into PostgreSQL and proves that nothing was lost.

pub mod carry;
pub mod checksum;
pub mod formats;
pub mod json;
pub mod model;
pub mod postgres;
pub mod report;
pub mod sample;
pub mod sqlite;
pub mod work;
