import ArgumentParser
import Console
import Foundation

/// `crmsync console hash-password`: makes the `password_hash` of a `console.users` entry.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Web console helpers (the console itself is served by `crmsync run --http-addr`).",
        subcommands: [HashPassword.self, ConsoleBenchCommand.self]
    )

    struct HashPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hash-password",
            abstract: "Read a password from standard input (one line) and print its salted hash for console.users.",
            discussion: "Example: printf '%s' \"$PASSWORD\" | crmsync console hash-password. The password never appears in the config."
        )

        func run() async throws {
            try await reportingFailures {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw CLIFailure.usage("give the password on standard input (one non-empty line)")
                }
                do {
                    print(try PasswordHash.make(password: line))
                } catch {
                    throw CLIFailure.other("cannot hash the password: \(error)")
                }
            }
        }
    }
}
