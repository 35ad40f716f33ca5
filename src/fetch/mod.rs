//! Actions (and reusable workflows) of other repositories: what a `uses:` names
//! ([`reference`]), where it comes from ([`settings`]), and the cache that holds each repository
//! at a commit ([`cache`]), filled with the `git` CLI.
//!
//! The one call other parts need: [`Fetcher::checkout`] turns `owner/repo[/path]@ref` into a
//! folder on this machine (fetching it at most once), [`Fetcher::cached`] does the same without
//! the network.

pub mod cache;
mod git;
pub mod reference;
pub mod settings;

pub use cache::{Checkout, FetchError, Fetcher, Origin};
pub use reference::{RemoteRef, Uses, parse};
pub use settings::Sources;
