import CRMModel
import Foundation
import GRDB
import Store
import Testing

@Suite("Store: the outbox headers column")
struct OutboxHeaderColumnTests {
    @Test("headers are stored as the JSON Foundation's encoder writes, and read back exactly")
    func sameJSONAndRoundTrip() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let headers = [
            OutboxHeader("ce_id", "c-1@2"), OutboxHeader("quote\"back\\slash/", "x"), OutboxHeader("line\nfeed\ttab\u{01}", "y"),
            OutboxHeader("ünïcode ✓", bytes: Data([0xFF, 0x00, 0xFB])), OutboxHeader("empty", bytes: Data()),
            OutboxHeader("null", bytes: nil),
        ]
        let id = try store.write { try $0.enqueue(OutboxMessage(topic: "t", key: nil, value: Data("v".utf8), headers: headers, createdAt: t0)) }
        let stored = try store.readRaw { try String.fetchOne($0, sql: "SELECT headers FROM outbox WHERE id = ?", arguments: [id]) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try JSONDecoder().decode([OutboxHeader].self, from: encoder.encode(headers))
        #expect(try JSONDecoder().decode([OutboxHeader].self, from: Data((stored ?? "").utf8)) == expected)
        #expect(stored == String(decoding: try encoder.encode(headers), as: UTF8.self))
        #expect(try store.read { try $0.unsentOutbox(limit: 1) }.first?.message.headers == headers)
    }

    @Test("headers in another JSON layout (other member order, escapes) still read back through the general decoder")
    func otherLayouts() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let id = try store.write { try $0.enqueue(OutboxMessage(topic: "t", key: nil, value: Data("v".utf8), headers: [], createdAt: t0)) }
        let layouts: [(String, [OutboxHeader])] = [
            (#"[{"value":"eA==","name":"a\/b"}]"#, [OutboxHeader("a/b", "x")]),
            (#"[ {"name":"\u00e9","value":"eQ=="} ]"#, [OutboxHeader("é", "y")]),
            (#"[{"name":"n"},{"name":"m","value":""}]"#, [OutboxHeader("n", bytes: nil), OutboxHeader("m", bytes: Data())]),
        ]
        for (text, expected) in layouts {
            try store.writeRaw { try $0.execute(sql: "UPDATE outbox SET headers = ? WHERE id = ?", arguments: [text, id]) }
            #expect(try store.read { try $0.unsentOutbox(limit: 1) }.first?.message.headers == expected, "\(text)")
        }
    }
}
