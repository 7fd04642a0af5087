//! Generates the gRPC code from `proto/` with protox (a pure-Rust protoc), so a fresh machine
//! needs nothing but cargo.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    // The core alone (`--no-default-features`) has no gRPC code to generate.
    if std::env::var_os("CARGO_FEATURE_SERVICE").is_none() {
        return Ok(());
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let mut compiler = protox::Compiler::new(["proto"])?;
    // Reflection clients need the imported well-known types and the comments.
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(["credence/v1/credence.proto"])?;
    // compile_fds() does not write the descriptor set itself; reflection serves it.
    std::fs::write(
        out.join("credence_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;
    tonic_prost_build::configure()
        .type_attribute(".", "#[allow(clippy::all)]")
        .compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}
