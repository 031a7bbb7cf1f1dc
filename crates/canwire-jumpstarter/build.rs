//! Compiles the Jumpstarter `.proto` files with protox (pure Rust, so no
//! `protoc` to install) and generates the tonic client and server.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "jumpstarter/v1/common.proto",
        "jumpstarter/v1/jumpstarter.proto",
        "jumpstarter/v1/router.proto",
    ];
    let descriptors = protox::compile(files, ["proto"])?;
    tonic_prost_build::configure().compile_fds(descriptors)?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
