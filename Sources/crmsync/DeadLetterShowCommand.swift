import ArgumentParser
import CRMModel
import DeadLetters
import Kafka

extension DeadLetterCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one dead letter with its headers, key and bytes.")

        @OptionGroup var common: CommonOptions

        @Argument(help: "Where the letter is on the DLQ: PARTITION:OFFSET, or OFFSET with --partition.")
        var position: String

        @Option(help: "The DLQ partition when POSITION is a bare offset.")
        var partition: Int32 = 0

        @Flag(help: "Print JSON.")
        var json = false

        func validate() throws {
            try checkingArguments { _ = try wanted() }
        }

        private func wanted() throws -> LetterPosition {
            guard let wanted = LetterPosition(parsing: position, defaultPartition: partition) else {
                throw CLIFailure.usage("POSITION must be PARTITION:OFFSET or OFFSET (got \"\(position)\")")
            }
            return wanted
        }

        func run() async throws {
            try await reportingFailures {
                let wanted = try wanted()
                let context = try await DeadLetterContext(common: common)
                guard wanted.partition < context.partitions else {
                    throw CLIFailure.usage("\(context.dlqTopic) has \(context.partitions) partition(s); there is no partition \(wanted.partition)")
                }
                var found: ConsumerMessage?
                try await context.scan(only: wanted) { found = $0 }
                guard let message = found else {
                    throw CLIFailure.other("no record at \(context.dlqTopic) \(wanted) (expired, or beyond the end)")
                }
                guard let entry = context.entry(message) else {
                    throw CLIFailure.other("\(context.dlqTopic) \(wanted) is not a crmsync dead letter (no crmsync.* headers)")
                }
                let replayedBy = try context.replayedLetters([entry])[wanted]
                if json {
                    try printJSON(LetterJSON(entry, replayedByRun: replayedBy, includeBytes: true, headers: message.headers))
                    return
                }
                let letter = entry.letter
                print("dead letter \(context.dlqTopic) \(wanted)")
                print("  error:      \(letter.error.errorClass.rawValue) at stage \(letter.error.stage.rawValue)\(letter.error.fieldPath.map { ", field \($0)" } ?? "")")
                print("  message:    \(letter.error.message)")
                print("  original:   \(letter.originalTopic)[\(letter.originalPartition)]@\(letter.originalOffset)\(entry.source.map { " (source \($0))" } ?? "")"
                    + (letter.originalTimestampMilliseconds.map { ", published \(Timestamp(epochMilliseconds: $0).rfc3339)" } ?? ""))
                print("  failed at:  \(letter.failedAt.rfc3339)")
                print("  replays:    \(letter.replayCount)\(replayedBy.map { ", replayed by run \($0)" } ?? "")")
                print("  key:        \(letter.key.map(printable) ?? "(null)")")
                print("  headers:")
                for header in message.headers {
                    print("    \(header.name): \(header.value.map(printable) ?? "(null)")")
                }
                print("  value (\(letter.value?.count ?? 0) bytes):")
                print(letter.value.map(printable) ?? "(null)")
            }
        }
    }
}
