import ArgumentParser

/// `crmsync dlq list|show|stats|replay`
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "See, filter and replay dead letters (dlq.events.v1).",
        discussion: """
        Every command reads the DLQ topic with its own group-less reader: the processor's \
        consumer group is never touched. Filters (list, stats, replay): --class CLASS, \
        --source SOURCE (both repeatable), --since/--until (RFC 3339, or an age like 2h or 7d \
        meaning "that long ago", on the failure time), --key KEY (the original record key).

        Fix forward: correct the config (e.g. add the missing picklist mapping), restart \
        `crmsync run`, then `crmsync dlq replay --class unmapped-value`. Replaying is always \
        safe: an event applied before counts as a duplicate, one that fails again returns to \
        the DLQ with crmsync.replay.count raised.
        """,
        subcommands: [List.self, Show.self, Stats.self, Replay.self]
    )
}
