/// The pipeline stage at which an event failed.
public enum PipelineStage: String, Sendable, Hashable, CaseIterable, Codable {
    case normalize
    case dedup
    case ownership
    case write
}

/// A permanent, input-caused failure: the event can never be applied as it was sent.
///
/// Its fields are exactly what the dead-letter headers carry (docs/contract.md#dead-letters)
/// (`crmsync.error.class`, `crmsync.error.stage`, `crmsync.error.message`), so the
/// `errorClass` raw values are a stable, public contract: never rename one.
public struct EventError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Stable error classes. Operators filter dead letters by these names.
    public enum Class: String, Sendable, Hashable, CaseIterable, Codable {
        /// The bytes are not JSON (truncated, invalid UTF-8, trailing garbage).
        case malformedJSON = "malformed-json"
        /// JSON, but not of the shape the contract allows (wrong type, unknown field, bad enum).
        case schema
        /// A field the contract requires is absent or null.
        case missingField = "missing-field"
        /// A field is present and well-typed but its value is not acceptable (bad email, bad phone, bad timestamp).
        case invalidValue = "invalid-value"
        /// A picklist or lifecycle value that has no mapping in config: a typed error, never a guess.
        case unmappedValue = "unmapped-value"
        /// An entity crmsync does not model (not contact/account/deal).
        case unknownEntity = "unknown-entity"
        /// The payload matches none of the accepted formats (canonical or a vendor shape).
        case unknownFormat = "unknown-format"
        /// The payload or one of its fields exceeds a size limit.
        case oversized
        /// crmsync could not apply a well-formed event (a store invariant refused it). The
        /// message is dead-lettered rather than stopping the pipeline; replay it after a fix.
        case internalError = "internal"
    }

    public var errorClass: Class
    public var stage: PipelineStage
    /// JSON-pointer-like path of the offending field (`fields.email`, `[2].propertyValue`), if any.
    public var fieldPath: String?
    /// A human-readable message; safe to log (never echoes whole payloads).
    public var message: String

    public init(_ errorClass: Class, stage: PipelineStage = .normalize, field fieldPath: String? = nil, _ message: String) {
        self.errorClass = errorClass
        self.stage = stage
        self.fieldPath = fieldPath
        self.message = message
    }

    public var description: String {
        if let fieldPath {
            return "\(errorClass.rawValue) at \(fieldPath): \(message)"
        }
        return "\(errorClass.rawValue): \(message)"
    }
}
