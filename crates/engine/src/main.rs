use clap::Parser;

fn main() {
    let cli = agentsecrets_engine::cli::Cli::parse();
    let code = agentsecrets_engine::cli::run(cli);
    std::process::exit(code);
}
