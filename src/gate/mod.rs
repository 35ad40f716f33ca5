//! Approval gates: `pipe.toml`'s per-environment policy, the pure decision rules, who answers,
//! environment-scoped secrets, and the append-only audit log and deployment ledger.

pub mod branch;
pub mod config;
pub mod duration;
pub mod identity;
pub mod inventory;
pub mod ledger;
pub mod policy;
pub mod secrets;
mod span;

pub use config::{Config, EnvironmentPolicy, load};
pub use identity::identity;
pub use policy::{GateCheck, check, describe, describe_check, may_decide};
pub use secrets::load_env_secrets;
