pub mod field;
pub mod header;
pub mod logout;
pub mod form;
