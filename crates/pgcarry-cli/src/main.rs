//! The `pgcarry` command.

fn main() {
    println!("pgcarry");
}
