import CRMModel
import CrmsyncConfig
import Dedup
import Kafka
import Logging
import Normalize
import Normalizers
import Operations
import Ownership
import Pipeline
import Store

/// Builds the pipeline stages from the configuration; a bad table or region is a config error.
enum Stages {
    static func normalize(_ configuration: CrmsyncConfiguration) throws -> NormalizeStage {
        let settings = configuration.normalize
        let tables: MappingTables
        let blocklist: IdentifierBlocklist
        do {
            tables = try MappingTables.load(path: settings.mappingsFile)
            blocklist = try IdentifierBlocklist.load(path: settings.blockedIdentifiersFile)
        } catch let error as MappingTableError {
            throw CLIFailure.configProblem("\(error)")
        }
        do {
            return try NormalizeStage(configuration: NormalizeConfiguration(
                defaultPhoneRegion: settings.defaultRegion,
                mappingTables: tables,
                blocklist: blocklist,
                maxMessageBytes: settings.maxMessageBytes
            ))
        } catch {
            throw CLIFailure.configProblem("\(configuration.origin): normalize.default_region: \(error.message)")
        }
    }

    /// The source a topic carries.
    static func sources(_ configuration: CrmsyncConfiguration) -> [String: Source] {
        [
            configuration.topic(.crm): .crm,
            configuration.topic(.map): .map,
            configuration.topic(.billing): .billing,
            configuration.topic(.product): .product,
        ]
    }
}

extension Stages {
    /// The write stage with every stage it runs, from the configuration.
    static func writeStage(_ configuration: CrmsyncConfiguration, store: any GoldenStore, logger: Logger, clock: Clock = .system) throws -> WriteStage {
        let normalize = try normalize(configuration)
        let policy: OwnershipPolicy
        do {
            policy = try OwnershipPolicy.load(path: configuration.ownershipFile)
        } catch {
            throw CLIFailure.configProblem("\(error)")
        }
        let resolver: IdentityResolver
        do {
            var identity = IdentityPolicy()
            identity.conflictReviewThreshold = configuration.identity.reviewThreshold
            resolver = try IdentityResolver(policy: identity)
        } catch {
            throw CLIFailure.other("cannot load the identity resolver's data: \(error)")
        }
        return WriteStage(
            store: store, normalize: normalize, resolver: resolver, ownership: OwnershipEngine(policy: policy),
            sources: sources(configuration),
            topics: OutputTopics(golden: configuration.topic(.golden), audit: configuration.topic(.audit),
                                 review: configuration.topic(.review), dlq: configuration.topic(.dlq)),
            clock: clock, logger: logger
        )
    }
}

extension Stages {
    /// The write stage over an existing store, for commands that write outside `crmsync run`
    /// (`review approve`, `purge`): never creates a store, since they need the one `run` fills.
    /// SQLite's busy timeout lets them share the store with a running processor; its relay
    /// publishes the outbox rows they write.
    static func writeStageOnExistingStore(_ configuration: CrmsyncConfiguration, label: String) throws -> WriteStage {
        _ = try openStore(configuration)
        let store: SQLiteStore
        do { store = try SQLiteStore(path: configuration.store) } catch { throw CLIFailure.store("\(error)") }
        return try writeStage(configuration, store: store, logger: Logger(label: label))
    }
}

/// The processor with everything it runs, wired from the configuration.
struct ProcessorWiring {
    let store: SQLiteStore
    let producer: KafkaProducer
    let relay: OutboxRelay
    let settings: Processor.Settings
    let processor: Processor
}

extension Stages {
    /// The processor exactly as `crmsync run` wires it (the demo uses it too): a store at the
    /// configured path, the write stage, the idempotent producer and outbox relay, and the
    /// consumer settings with the configured retry backoff; `adjust` sets the rest.
    /// - Parameter metrics: when given, the relay's publishing is measured into it.
    static func processor(_ configuration: CrmsyncConfiguration, logger: Logger, metrics: PipelineMetrics? = nil,
                          adjust: (inout Processor.Settings) -> Void = { _ in }) throws -> ProcessorWiring {
        let store: SQLiteStore
        do {
            store = try SQLiteStore(path: configuration.store)
        } catch {
            throw CLIFailure.store("\(error)")
        }
        let writer = try writeStage(configuration, store: store, logger: logger)
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrapServers: configuration.brokers, overrides: configuration.kafka), logger: logger)
        } catch {
            throw CLIFailure.kafka("\(error)")
        }
        let outbox: any Outbox = metrics.map { MeasuredOutbox(store: store, metrics: $0) } ?? StoreOutbox(store: store)
        // A 500-message batch writes ~1,250 outbox rows; each relay round ends in a write
        // transaction (deleting what was delivered) that waits for the processor's lock, so one
        // round per batch rather than three.
        let relay = OutboxRelay(outbox: outbox, producer: producer, logger: logger, batchSize: 2_000)
        var settings = Processor.Settings(
            topics: TopicRole.sources.map(configuration.topic),
            consumer: ConsumerConfiguration(bootstrapServers: configuration.brokers, groupID: configuration.groupID, overrides: configuration.kafka)
        )
        settings.backoff = Backoff(baseMilliseconds: UInt64(configuration.retry.baseMilliseconds),
                                   capMilliseconds: UInt64(configuration.retry.capMilliseconds))
        adjust(&settings)
        do {
            let processor = try Processor(settings: settings, writer: writer, relay: relay, logger: logger)
            return ProcessorWiring(store: store, producer: producer, relay: relay, settings: settings, processor: processor)
        } catch {
            throw CLIFailure.kafka("\(error)")
        }
    }
}
