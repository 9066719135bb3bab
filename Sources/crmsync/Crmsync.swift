import ArgumentParser

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
}
