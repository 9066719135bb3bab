import ArgumentParser
import ConfigFiles
import CrmsyncConfig
import Foundation
import Logging
import Kafka
import Operations
import Pipeline
import Store

/// Options every command accepts (docs/contract.md#command-line).
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Config file (default: ./crmsync.yml when present; env CRMSYNC_CONFIG).")
    var config: String?

    @Option(name: .long, help: "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...] (env CRMSYNC_BROKERS).")
    var brokers: String?

    @Option(name: .long, help: "Path of the SQLite store (env CRMSYNC_STORE; default ./crmsync.sqlite).")
    var store: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (default: the config's, else info).")
    var logLevel: String?

    /// Loads the configuration and sets up logging; exits with one line on a config error.
    /// - Parameter quietByDefault: log warnings and worse unless the user asked otherwise
    ///   (for commands whose standard output is the point, like `demo`).
    func load(quietByDefault: Bool = false) throws -> CrmsyncConfiguration {
        let configuration: CrmsyncConfiguration
        do {
            configuration = try ConfigurationLoader.load(
                flags: ConfigurationFlags(configFile: config, brokers: brokers, store: store),
                environment: ProcessInfo.processInfo.environment
            )
        } catch {
            throw CLIFailure.config(error)
        }
        let levelName = logLevel ?? (quietByDefault && configuration.logLevel == "info" ? "warning" : configuration.logLevel)
        guard let level = Logger.Level(rawValue: levelName) else {
            throw CLIFailure.usage("--log-level: unknown level \"\(levelName)\"")
        }
        LoggingBootstrap.once(level: level, format: configuration.logFormat)
        return configuration
    }
}

/// Logging goes to standard error, so standard output stays data.
enum LoggingBootstrap {
    private static let done = Locked(false)

    static func once(level: Logger.Level, format: CrmsyncConfiguration.LogFormat = .text) {
        let first = done.withLock { done -> Bool in
            defer { done = true }
            return !done
        }
        guard first else { return }
        // Every line masks customer data (emails, phones, names), in either format.
        LoggingSystem.bootstrap { label in
            RedactingLogHandler(label: label, level: level, format: format == .json ? .json : .text)
        }
    }
}

/// A failure a command reports as one line on standard error, with an exit code that says why.
enum CLIFailure: Error, CustomStringConvertible {
    /// Bad configuration (exit 2).
    case config(ConfigError)
    /// Bad configuration reported by another component, already one line (exit 2).
    case configProblem(String)
    /// Bad command-line use (exit 2).
    case usage(String)
    /// Kafka unreachable or refusing (exit 3).
    case kafka(String)
    /// The command ran and found a problem it must not fix by itself (exit 4).
    case verification(String)
    /// The store cannot be opened, is in use, or failed (exit 5).
    case store(String)
    /// `run` stopped on an alarm: another store in its group (exit 6), an unreadable batch (exit 7).
    case alarm(StopAlarm)
    /// Anything else (exit 1).
    case other(String)

    var description: String {
        switch self {
        case .config(let error): return "config error: \(error)"
        case .configProblem(let text): return "config error: \(text)"
        case .usage(let text): return text
        case .kafka(let text): return "kafka: \(text)"
        case .verification(let text): return text
        case .store(let text): return "store: \(text)"
        case .alarm(let alarm): return "\(alarm)"
        case .other(let text): return text
        }
    }

    var exitCode: Int32 {
        switch self {
        case .config, .configProblem, .usage: return 2
        case .kafka: return 3
        case .verification: return 4
        case .store: return 5
        case .alarm(.foreignStore): return 6
        case .alarm(.unreadableBatch): return 7
        case .other: return 1
        }
    }
}

/// Runs a command body, turning a ``CLIFailure`` into one stderr line and its exit code.
func reportingFailures(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let failure as CLIFailure {
        FileHandle.standardError.write(Data("crmsync: error: \(failure)\n".utf8))
        throw ExitCode(failure.exitCode)
    }
}

/// Prints a value as pretty, key-sorted JSON on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    print(String(decoding: data, as: UTF8.self))
}

/// Opens the configured store read-only (never creating one); a missing store or one of another
/// schema is a one-line store error (exit 5).
func openStore(_ configuration: CrmsyncConfiguration) throws -> SQLiteStore {
    do {
        return try SQLiteStore.openForReading(path: configuration.store)
    } catch {
        throw CLIFailure.store(error.message)
    }
}
