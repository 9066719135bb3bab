// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "crmsync",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "crmsync", targets: ["crmsync"]),
    ],
    dependencies: [
        // CLI parsing for `crmsync` and its subcommands.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // Logging API; librdkafka's log lines are routed into it.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        // YAML with source positions, so config errors can name file and line.
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        // SHA-256 for the audit hash chain (a vetted implementation, not our own).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.0.0"),
        // Property-based tests for normalizers and policies (tests only).
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        // SQLite store (WAL, migrations in code) for golden records, crosswalk, outbox.
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        // Services with graceful shutdown on SIGTERM/SIGINT (`crmsync run`, `dlq replay`): the
        // ecosystem's standard lifecycle, so a second signal, deadlines and ordered stops are not
        // reimplemented by hand.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        // The metrics API the pipeline records into (counters, gauges, histograms).
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // The swift-metrics backend that renders the Prometheus text format for /metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The HTTP server behind `--http-addr` (/metrics, /healthz, /readyz, later the console);
        // used by the HTTPServer module only.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // NIOCore's ByteBuffer and Channel, which Hummingbird's API hands us (already in the graph).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        // The web console's server-rendered pages: logic-less templates that HTML-escape `{{ }}`
        // by default (customer values are attacker-controlled); Hummingbird's own template
        // engine, no dependencies of its own.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev, found through pkg-config.
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Our Swift wrapper over librdkafka: producer, consumer, admin, mock cluster.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Reading YAML config files with one-line, file:line:column errors.
        .target(name: "ConfigFiles", dependencies: [.product(name: "Yams", package: "Yams")]),
        // crmsync.yml + CRMSYNC_* environment + flags, and the topics-as-code specs.
        .target(name: "CrmsyncConfig", dependencies: ["Kafka", "ConfigFiles"]),
        // The canonical event model every stage speaks.
        .target(name: "CRMModel"),
        // Pure value normalizers: email, phone, names, domains, timestamps, picklists.
        .target(name: "Normalizers", dependencies: ["CRMModel", "ConfigFiles", .product(name: "Yams", package: "Yams")]),
        // Stage 1: bytes from a source topic -> validated, normalized canonical events.
        .target(
            name: "Normalize",
            dependencies: ["CRMModel", "Normalizers", .product(name: "Yams", package: "Yams")],
            resources: [.copy("Resources")]
        ),
        // Golden records, crosswalk, identity indexes, outbox and offsets in SQLite (GRDB, WAL).
        // Depends on Dedup because it implements Dedup's IdentityLookup port (Dedup stays pure).
        // GRDBSQLite (GRDB's own SQLite module, no new package): the writer binds its hottest
        // statements' arguments straight into SQLite (Sources/Store/CachedStatements.swift).
        .target(name: "Store", dependencies: ["CRMModel", "Dedup", .product(name: "GRDB", package: "GRDB.swift"),
                                              .product(name: "GRDBSQLite", package: "GRDB.swift")]),
        // Identity resolution (dedup tiers, docs/contract.md#identity) and the fuzzy ranking of review candidates.
        .target(name: "Dedup", dependencies: ["CRMModel", "Normalizers"], resources: [.copy("Resources")]),
        // Stage 3: per-field ownership policies (config/ownership.yml) resolving a golden record
        // as a pure function of the set of events applied to it.
        .target(name: "Ownership", dependencies: ["CRMModel", "ConfigFiles"]),
        // The audit trail: one hash-chained event per applied write.
        .target(name: "Audit", dependencies: ["CRMModel", .product(name: "Crypto", package: "swift-crypto")]),
        // Dead letters: the DLQ record contract (original bytes + crmsync.* headers).
        .target(name: "DeadLetters", dependencies: ["CRMModel", "Kafka"]),
        // The pipeline's Kafka edge: batches in, write stage, outbox relay out.
        .target(
            name: "Pipeline",
            dependencies: [
                "Kafka", "CRMModel", "Normalize", "Dedup", "Ownership", "Store", "Audit", "DeadLetters",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Operating crmsync: the pipeline as lifecycle services, its metrics, readiness, and
        // log output (JSON or text, customer data masked). No HTTP here.
        .target(
            name: "Operations",
            dependencies: [
                "Kafka", "Pipeline", "Store", "CRMModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP server (Hummingbird) as a lifecycle service; routes come from contributors
        // (metrics and probes now, the web console later).
        .target(
            name: "HTTPServer",
            dependencies: [
                "Operations",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `crmsync bench`'s parts that are not the command: the workload generator, the store
        // ceiling, latency percentiles, /proc memory, the report and its SVG chart.
        .target(
            name: "Bench",
            dependencies: ["CRMModel", "Kafka", "SeededRandom", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The web console (review queue, records, health) as routes for the HTTP server:
        // sign-in, sessions, CSRF, mustache pages. Decisions go through Pipeline's resolveReview.
        .target(
            name: "Console",
            dependencies: [
                "CRMModel", "Store", "Pipeline", "Dedup", "Audit", "Ownership", "DeadLetters", "Kafka", "CrmsyncConfig", "HTTPServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                // EmbeddedChannel: ConsolePages drives the real routes without a socket (tests, `console bench`).
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The command-line interface.
        .executableTarget(
            name: "crmsync",
            dependencies: [
                "Kafka",
                "CrmsyncConfig",
                "ConfigFiles",
                "CRMModel",
                "Normalizers",
                "Normalize",
                "Store",
                "Dedup",
                "Ownership",
                "Pipeline",
                "DeadLetters",
                "Operations",
                "HTTPServer",
                "Bench",
                "Console",
                // `console bench` fills its store with bulk SQL copies (Store's own package).
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Routes librdkafka's C11 threads and locks through pthreads so ThreadSanitizer sees
        // them (see threads_shim.c); linked into test binaries only.
        .target(name: "CThreadsForSanitizers", path: "Tests/Support/CThreadsForSanitizers"),
        // A seedable generator for test data, shared by the test targets and the bench workload.
        .target(name: "SeededRandom", path: "Tests/Support/SeededRandom"),
        // Generated model values for encoding tests (test support only).
        .target(name: "ModelGenerators", dependencies: ["CRMModel", "SeededRandom"], path: "Tests/Support/ModelGenerators"),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "CRdKafka", "CThreadsForSanitizers", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "CrmsyncConfigTests",
            dependencies: ["CrmsyncConfig", "ConfigFiles", "Kafka"]
        ),
        .testTarget(
            name: "NormalizersTests",
            dependencies: ["Normalizers", "CRMModel", .product(name: "PropertyBased", package: "swift-property-based")],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "NormalizeTests",
            dependencies: [
                "SeededRandom",
                "Normalize", "CRMModel", "Normalizers",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "AuditTests",
            dependencies: ["Audit", "CRMModel", "ModelGenerators", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "DeadLettersTests",
            dependencies: ["DeadLetters", "CRMModel", "Kafka", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "SeededRandom",
                "Kafka", "CrmsyncConfig", "Audit", .product(name: "Yams", package: "Yams"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "ConsoleTests", dependencies: ["Console", "CRMModel", "Store", "Dedup", "Pipeline", "CrmsyncConfig", "DeadLetters", "Kafka",
                                                       "Normalize", "Normalizers", "Ownership", "Audit",
                                                       .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "CRMModel", "ModelGenerators", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "DedupTests",
            dependencies: ["SeededRandom", "Dedup", "Store", "CRMModel", "Normalizers", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "PipelineTests",
            dependencies: [
                "SeededRandom",
                "Pipeline", "Store", "Ownership", "Audit", "CRMModel", "Dedup", "Kafka", "Normalize", "Normalizers",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "OperationsTests",
            dependencies: [
                "Operations", "HTTPServer", "Pipeline", "Store", "Kafka", "CRMModel",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["Bench", "Kafka", "Normalize", "Normalizers", "CRMModel"]
        ),
        .testTarget(
            name: "OwnershipTests",
            dependencies: [
                "SeededRandom",
                "Ownership", "CRMModel", "ConfigFiles",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ]
)
