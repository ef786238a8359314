//! The scenario files live beside this crate; its tests run each of them for a few seeds.
