//! Rebuild when an embedded SQL migration changes: `sqlx::migrate!` reads them at compile time.

fn main() {
    println!("cargo:rerun-if-changed=src/server/store/migrations");
}
