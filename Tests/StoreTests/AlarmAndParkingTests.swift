import CRMModel
import Foundation
import Testing
@testable import Store

@Suite("Store: alarms and parked outbox rows")
struct AlarmAndParkingTests {
    @Test("an alarm and its offset move commit together; counts and the newest alarms read back")
    func alarms() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        #expect(try store.read { try $0.alarmCounts() }.isEmpty)
        for (index, lostFrom) in [Int64(5), 90].enumerated() {
            try store.write { tx in
                try tx.raiseAlarm(Alarm(kind: .offsetOutOfRange, topic: "crm.events.v1", partition: 2, lostFrom: lostFrom, lostTo: lostFrom + 9,
                                        resumedAt: lostFrom + 10, detail: "alarm \(index)", raisedAt: t0))
                try tx.commitOffset(topic: "crm.events.v1", partition: 2, next: lostFrom + 10)
            }
        }
        // A failing transaction leaves neither the alarm nor the offset.
        struct Abort: Error {}
        #expect(throws: Abort.self) {
            try store.write { tx in
                try tx.raiseAlarm(Alarm(kind: .offsetOutOfRange, topic: "crm.events.v1", partition: 2, lostFrom: 200, lostTo: 209,
                                        resumedAt: 210, detail: "rolled back", raisedAt: t0))
                try tx.commitOffset(topic: "crm.events.v1", partition: 2, next: 210)
                throw Abort()
            }
        }
        #expect(try store.read { try $0.alarmCounts() } == [.offsetOutOfRange: 2])
        #expect(try store.read { try $0.consumedOffsets(topic: "crm.events.v1") } == [2: 100])
        let latest = try store.read { try $0.latestAlarms(limit: 1) }
        #expect(latest.map(\.lostFrom) == [90])
        #expect(latest.first?.lostTo == 99)
        #expect(latest.first?.resumedAt == 100)
        #expect(latest.first?.detail == "alarm 1")
    }

    @Test("a parked row leaves the unsent queue, is counted, and keeps its reason")
    func parking() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("store.sqlite"))
        let ids = try store.write { tx in
            try (0..<3).map { try tx.enqueue(OutboxMessage(topic: "dlq.events.v1", key: nil, value: Data(repeating: 7, count: 10 + $0), createdAt: t0)) }
        }
        try store.write { try $0.parkOutbox(ids[0], reason: "too large", at: t0) }
        #expect(try store.read { try $0.unsentOutbox(limit: 10) }.map(\.id) == [ids[1], ids[2]])
        #expect(try store.read { try $0.parkedOutboxCount() } == 1)
        let parked = try #require(try store.read { try $0.parkedOutbox(limit: 5) }.first)
        #expect(parked.id == ids[0])
        #expect(parked.valueBytes == 10)
        #expect(parked.reason == "too large")
        // A sent row is never parked.
        try store.write { tx in
            try tx.markSent([ids[1]], at: t0)
            try tx.parkOutbox(ids[1], reason: "late", at: t0)
        }
        #expect(try store.read { try $0.parkedOutboxCount() } == 1)
    }
}
