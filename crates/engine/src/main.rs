use clap::Parser;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = agentsecrets_engine::cli::Cli::parse();
    let code = agentsecrets_engine::cli::run(cli);
    std::process::exit(code);
}
