//! Code generated from `proto/` by `build.rs`: the wire types, the servers
//! and the clients.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod numbering {
    pub mod v1 {
        tonic::include_proto!("numbering.v1");
    }
}

pub use numbering::v1;

/// The encoded descriptors of every numbering proto, served by reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("numbering_descriptor");
