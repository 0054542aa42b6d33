use clap::Parser;
use numbering::auth::mint_token;
use numbering::config::{Command, Settings};
use numbering::startup::{Application, StartupError};
use numbering::store::Store;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = Settings::parse();
    // The bulk commands are clients: they report to the person who ran
    // them, not to a log.
    match settings.command.clone() {
        Some(Command::Import(command)) => return numbering::cli::import(command).await,
        Some(Command::Export(command)) => return numbering::cli::export(command).await,
        _ => {}
    }
    let _telemetry =
        match numbering::telemetry::init(settings.log_format, settings.otlp_endpoint.as_deref()) {
            Ok(telemetry) => telemetry,
            Err(error) => {
                eprintln!("numbering: {error}");
                return ExitCode::FAILURE;
            }
        };
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "numbering failed");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> Result<(), StartupError> {
    match settings.command.clone().unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(&settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Migrate => {
            let store = Store::connect(
                &settings.database_url,
                settings.database_max_connections,
                settings.slow_statement,
            )
            .await?;
            store.migrate().await?;
            store.close().await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token(request) => {
            println!("{}", mint_token(&request, &settings.jwt)?);
            Ok(())
        }
        Command::Import(_) | Command::Export(_) => {
            unreachable!("handled before the server's setup")
        }
    }
}
