pub mod confirm_link;
pub mod field;
pub mod form;
pub mod header;
pub mod logout;
pub mod mail_request;
pub mod pager;
pub mod strength;
