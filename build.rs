//! Compiles the protos with protox (pure Rust, no system `protoc`) and keeps
//! the encoded descriptor set for gRPC reflection.

use std::{env, path::PathBuf};

const PROTOS: &[&str] = &[
    "proto/numbering/v1/common.proto",
    "proto/numbering/v1/did.proto",
    "proto/numbering/v1/sender_id.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let descriptors = protox::compile(PROTOS, ["proto"])?;
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(
        out_dir.join("numbering_descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(descriptors)?;
    Ok(())
}
