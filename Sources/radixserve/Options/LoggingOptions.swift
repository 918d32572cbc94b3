import ArgumentParser
import Logging
import ProcessLogging

/// `--log-level` of the serving commands; applied as soon as the flags are parsed, before any
/// logger is made.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Least severe log events to write: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        ProcessLogging.level = logLevel
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
