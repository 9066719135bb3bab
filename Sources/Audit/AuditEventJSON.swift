import CRMModel

extension AuditEvent {
    /// The event's document with ``JSONWriter`` (byte for byte its `Codable` encoding under
    /// `JSONEncoder` with sorted keys: `Tests/AuditTests/JSONWriterTests`), and where the
    /// value of `hash` starts in it, so the unsealed body (`"hash":""`) and the sealed document
    /// come from one encoding.
    func writeJSON() -> (bytes: [UInt8], hashOffset: Int) {
        var out = JSONWriter(capacity: 512 + changes.count * 96)
        out.raw("{")
        if let actor {
            out.raw(#""actor":"#)
            out.string(actor)
            out.raw(",")
        }
        out.raw(#""applied_at":"#)
        out.timestamp(appliedAt)
        out.raw(#","audit_id":"#)
        out.string(auditID)
        out.raw(#","changes":"#)
        out.array(changes) { $0.change($1) }
        out.raw(#","entity":"#)
        out.string(entity.rawValue)
        out.raw(#","event_id":"#)
        out.string(eventID)
        out.raw(#","golden_id":"#)
        out.string(goldenID)
        out.raw(#","hash":"#)
        let hashOffset = out.bytes.count + 1
        out.string(hash)
        out.raw(#","occurred_at":"#)
        out.timestamp(occurredAt)
        out.raw(#","operation":"#)
        out.string(operation.rawValue)
        out.raw(#","prev_hash":"#)
        out.string(prevHash)
        out.raw(#","rejected":"#)
        out.array(rejected) { writer, rejection in
            writer.raw(#"{"field":"#)
            writer.string(rejection.field)
            writer.raw(#","rule":"#)
            writer.string(rejection.rule)
            writer.raw(#","value":"#)
            writer.value(rejection.value)
            writer.raw("}")
        }
        out.raw(#","seq":"#)
        out.int(seq)
        out.raw(#","source":"#)
        out.string(source.rawValue)
        out.raw(#","system":"#)
        out.string(system)
        out.raw("}")
        return (out.bytes, hashOffset)
    }
}
