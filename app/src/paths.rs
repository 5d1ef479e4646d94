//! The pages' addresses, named once. The router in `lib.rs` spells them as
//! literals (its `path!` macro needs them), and a server test checks that every
//! path named here is one of its routes.

pub const HOME: &str = "/";
pub const REGISTER: &str = "/register";
pub const LOGIN: &str = "/login";
/// Where signed-in visitors land.
pub const ACCOUNT: &str = "/account";
pub const ADMIN_USERS: &str = "/admin/users";
pub const ADMIN_AUDIT: &str = "/admin/audit";

pub const ALL: [&str; 6] = [HOME, REGISTER, LOGIN, ACCOUNT, ADMIN_USERS, ADMIN_AUDIT];
