import Foundation
import Testing

/// The repository root, from this file's location.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The `crmsync` binary under test: `$CRMSYNC_BIN`, else the debug build of this checkout.
let crmsyncBinary: String = {
    if let path = ProcessInfo.processInfo.environment["CRMSYNC_BIN"], !path.isEmpty { return path }
    return "\(repositoryRoot)/.build/debug/crmsync"
}()

/// What a finished command printed.
struct CommandResult: Sendable {
    let status: Int32
    let stdout: String
    let stderr: String

    var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
}

/// Collects a pipe's bytes on a background thread (so a chatty child never blocks on a full pipe).
final class PipeCollector: @unchecked Sendable {
    // @unchecked: `data` is written by the reader thread and read only after `done` is signalled.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// Waits for end-of-file and returns everything read.
    func text() -> String {
        done.wait()
        done.signal()
        return String(decoding: data, as: UTF8.self)
    }
}

/// Runs `crmsync` with `arguments` in the repository root and waits for it.
func crmsync(_ arguments: [String], environment: [String: String] = [:], directory: String = repositoryRoot) async throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: crmsyncBinary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    var env = ProcessInfo.processInfo.environment
    for key in ["CRMSYNC_BROKERS", "CRMSYNC_STORE", "CRMSYNC_CONFIG"] { env[key] = nil }
    process.environment = env.merging(environment) { _, new in new }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    let stdout = PipeCollector(out), stderr = PipeCollector(err)
    try process.run()
    let status = await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            process.waitUntilExit()
            continuation.resume(returning: process.terminationStatus)
        }
    }
    return CommandResult(status: status, stdout: stdout.text(), stderr: stderr.text())
}

/// A `crmsync dev-broker` child process.
final class DevBrokerProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are set up in init and only read afterwards.
    let process: Process
    let bootstrapServers: String
    private let stdin: Pipe
    private let reader: LineReader

    /// Starts the dev broker and waits until it has printed its bootstrap servers (so its
    /// topics exist).
    init(arguments: [String] = []) async throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: crmsyncBinary)
        process.arguments = ["dev-broker", "--log-level", "warning"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: repositoryRoot)
        let out = Pipe()
        stdin = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        process.standardError = FileHandle.standardError
        try process.run()
        reader = LineReader(out.fileHandleForReading)
        guard let first = await reader.nextLine(), first.contains(":") else {
            process.terminate()
            throw DevBrokerError.noBootstrapLine
        }
        bootstrapServers = first
    }

    deinit {
        // A failed test must not leave a broker behind.
        if process.isRunning { process.terminate() }
    }

    /// Sends one `--control` command and returns the reply line.
    func control(_ command: String) async -> String? {
        stdin.fileHandleForWriting.write(Data((command + "\n").utf8))
        return await reader.nextLine()
    }

    /// Sends SIGTERM and waits; returns the exit status.
    func stop() async -> Int32 {
        process.terminate()
        return await withCheckedContinuation { continuation in
            Thread.detachNewThread { [process] in
                process.waitUntilExit()
                continuation.resume(returning: process.terminationStatus)
            }
        }
    }

    enum DevBrokerError: Error { case noBootstrapLine }
}

/// Reads lines from a pipe on a background thread and hands them out in order.
final class LineReader: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    private var waiters: [CheckedContinuation<String?, Never>] = []
    private var finished = false

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    deliver(line)
                }
            }
            lock.lock()
            finished = true
            let pending = waiters
            waiters = []
            lock.unlock()
            pending.forEach { $0.resume(returning: nil) }
        }
    }

    private func deliver(_ line: String) {
        lock.lock()
        if waiters.isEmpty {
            lines.append(line)
            lock.unlock()
        } else {
            let waiter = waiters.removeFirst()
            lock.unlock()
            waiter.resume(returning: line)
        }
    }

    /// The next line, or nil at end of file.
    func nextLine() async -> String? {
        await withCheckedContinuation { continuation in
            lock.lock()
            if !lines.isEmpty {
                let line = lines.removeFirst()
                lock.unlock()
                continuation.resume(returning: line)
            } else if finished {
                lock.unlock()
                continuation.resume(returning: nil)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}

/// `crmsync stats --json` of `store`, parsed; empty while the store does not exist yet (the
/// processor creates it when it starts). `requireSuccess: false` for polls that may race the
/// processor's first migration, when the file exists but is not yet a readable store.
func storeStats(_ store: String, directory: String = repositoryRoot, requireSuccess: Bool = true) async throws -> [String: Any] {
    guard FileManager.default.fileExists(atPath: store) else { return [:] }
    let result = try await crmsync(["stats", "--json", "--store", store], directory: directory)
    if requireSuccess { #expect(result.status == 0, "\(result.stderr)") }
    return (try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]) ?? [:]
}
