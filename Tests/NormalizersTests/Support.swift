import CRMModel
import Foundation
import Testing

/// Repository root, found from this file's path (tests run from any working directory).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()   // NormalizersTests
    .deletingLastPathComponent()   // Tests
    .deletingLastPathComponent()   // root

/// Runs `body`, expecting an `EventError` of `errorClass` at the normalize stage for `field`.
@discardableResult
func expectEventError<T>(_ errorClass: EventError.Class, field: String?,
                         sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: () throws(EventError) -> T) -> EventError? {
    do {
        let value = try body()
        Issue.record("expected \(errorClass.rawValue), got \(value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.errorClass == errorClass, sourceLocation: sourceLocation)
        #expect(error.stage == .normalize, sourceLocation: sourceLocation)
        #expect(error.fieldPath == field, sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
        return error
    }
}
