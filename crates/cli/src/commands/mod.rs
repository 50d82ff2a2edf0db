pub mod evaluate;
pub mod generate;
pub mod inspect;
pub mod keys;
pub mod predict;
pub mod train;
pub mod tune;
