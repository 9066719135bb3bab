// swift-tools-version:6.1
// The Kafka wrapper and its tests alone, for `swift test --sanitize=thread` (scripts/test).
// The sources are symlinks into the main package: a small build, so the ThreadSanitizer run
// checks the module that owns threads and locks without rebuilding everything under TSan.
import PackageDescription

let package = Package(
    name: "crmsync-kafka-tsan",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CRdKafka", pkgConfig: "rdkafka", providers: [.apt(["librdkafka-dev"])]),
        .target(name: "Kafka", dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]),
        .target(name: "CThreadsForSanitizers", path: "Tests/Support/CThreadsForSanitizers"),
        .testTarget(
            name: "KafkaTests",
            dependencies: ["Kafka", "CRdKafka", "CThreadsForSanitizers", .product(name: "Logging", package: "swift-log")]
        ),
    ]
)
