import Logging
import Operations
import Testing

@Suite("Redactor and the log handler")
struct RedactorTests {
    let redactor = Redactor()

    @Test("emails, phones, personal JSON fields and quoted input values are masked", arguments: [
        ("invalid email ada.lovelace@example.co.uk in fields.email", "invalid email [email] in fields.email"),
        ("phone +1 (415) 555-0199 is not valid", "phone [phone] is not valid"),
        ("call 415-555-0199 now", "call [phone] now"),
        ("number 4155550199", "number [phone]"),
        (#"near {"first_name":"Ada","last_name":"Lovelace","x":1}"#, #"near {"first_name":"[redacted]","last_name":"[redacted]","x":1}"#),
        (#"not a boolean: "Grace Hopper""#, #"not a boolean: "[redacted]""#),
    ])
    func masks(input: String, expected: String) {
        #expect(redactor.redact(input) == expected)
    }

    @Test("pipeline coordinates stay readable", arguments: [
        "dead-lettered crm.events.v1[2]@1234567: malformed-json: unexpected end at byte 44",
        "batch committed",
        "transient failure, retrying batch of 500 in 200 ms (attempt 3)",
    ])
    func keeps(line: String) {
        #expect(redactor.redact(line) == line)
    }

    @Test("the JSON format is one object per line with coordinates kept and values masked")
    func jsonLine() throws {
        let lines = LinesBox()
        var logger = Logger(label: "test") { RedactingLogHandler(label: $0, level: .info, format: .json, write: lines.append) }
        logger.logLevel = .info
        logger.warning("dead-lettered: invalid email bob@example.com", metadata: ["topic": "crm.events.v1", "partition": "0", "offset": "17", "event_id": "evt-1"])
        let line = try #require(lines.all.first)
        #expect(!line.contains("bob@example.com"))
        #expect(line.contains(#""msg":"dead-lettered: invalid email [email]""#))
        #expect(line.contains(#""offset":"17""#) && line.contains(#""topic":"crm.events.v1""#) && line.contains(#""event_id":"evt-1""#))
        #expect(lines.all.count == 1 && !line.contains("\n"))
    }

    @Test("event ids are kept as the sender chose them (digit runs included), except an email address in one")
    func eventIDs() throws {
        let lines = LinesBox()
        var logger = Logger(label: "test") { RedactingLogHandler(label: $0, level: .info, format: .json, write: lines.append) }
        logger.logLevel = .info
        logger.info("held", metadata: ["event_id": "4402137720", "outbox_id": "12", "output_topic": "review.requests.v1", "ce_id": "c-1@3"])
        logger.info("held", metadata: ["event_id": "signup:ada@example.com"])
        let all = lines.all
        #expect(all.count == 2)
        #expect(all.first?.contains(#""event_id":"4402137720""#) == true, "\(all)")
        #expect(all.first?.contains(#""outbox_id":"12""#) == true && all.first?.contains(#""ce_id":"c-1@3""#) == true)
        #expect(all.last?.contains(#""event_id":"signup:[email]""#) == true, "\(all)")
    }
}

final class LinesBox: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    func append(_ line: String) { lines.withLock { $0.append(line) } }
}

import Synchronization
