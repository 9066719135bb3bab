import ArgumentParser
import Foundation

/// Runs argument checks from a command's `validate()`: a ``CLIFailure`` becomes one stderr line
/// and its exit code (2 for usage), the same as a failure inside `run()`. Argument-parser's own
/// `ValidationError` would exit 64 and print the usage text, which the documented exit codes do not
/// promise.
func checkingArguments(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let failure as CLIFailure {
        FileHandle.standardError.write(Data("crmsync: error: \(failure)\n".utf8))
        throw ExitCode(failure.exitCode)
    }
}
