import ArgumentParser
import Foundation

/// `crmsync`: keeps one clean customer record while CRM, marketing automation, billing and
/// product analytics publish changes about the same people to Kafka.
@main
struct Crmsync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crmsync",
        abstract: "Keeps one golden customer record from CRM, marketing, billing and product events on Kafka.",
        discussion: """
        Configuration: --config FILE (default ./crmsync.yml when present), overridden by
        CRMSYNC_BROKERS / CRMSYNC_STORE / CRMSYNC_CONFIG, overridden by --brokers and --store.
        """,
        subcommands: [DemoCommand.self, RunCommand.self, BenchCommand.self, DevBrokerCommand.self, TopicsCommand.self, RecordsCommand.self, ReviewCommand.self, DeadLetterCommand.self, PurgeCommand.self, AuditCommand.self, StatsCommand.self, ConsoleCommand.self]
    )

    /// Argument-parser's `main()`, except that a usage error (an unknown option, a bad value, a
    /// failed `validate()`) exits 2 like every other bad-configuration error (docs/operations.md
    /// exit codes) instead of argument-parser's 64. Other errors and exit codes pass unchanged.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(CLIFailure.usage("").exitCode)
        }
    }
}
