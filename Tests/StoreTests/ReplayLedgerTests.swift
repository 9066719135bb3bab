import CRMModel
import Foundation
import Store
import Testing

@Suite("Store: the DLQ replay ledger")
struct ReplayLedgerTests {
    @Test("a run records progress, is interrupted when abandoned, resumes, completes; replayed letters are remembered")
    func runLifecycle() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteStore(path: directory.path("ledger.sqlite"))
        let run = try store.startReplayRun(dlqTopic: "dlq", actor: "ops", options: #"{"again":false}"#, targetTopic: nil,
                                           scope: [0: 10, 1: 4], cursor: [0: 2, 1: 0], at: t0)
        #expect(run.status == .running)
        #expect(run.scope == [0: 10, 1: 4])
        #expect(!run.isAtEnd)

        try store.recordReplayProgress(runID: run.id, dlqTopic: "dlq", replayed: [(0, 2, "a"), (0, 5, "b")], cursor: [0: 6, 1: 0],
                                       counts: ReplayCounts(scanned: 4, matched: 3, replayed: 2, skipped: 1), at: t0)
        #expect(try store.replayedLetters(dlqTopic: "dlq", partition: 0, offsets: 0...9)
                == [2: ReplayedLetter(offset: 2, runID: run.id, fingerprint: "a"), 5: ReplayedLetter(offset: 5, runID: run.id, fingerprint: "b")])
        #expect(try store.replayedLetters(dlqTopic: "dlq", partition: 0, offsets: 3...4).isEmpty)
        #expect(try store.replayedLetters(dlqTopic: "other", partition: 0, offsets: 0...9).isEmpty)
        #expect(try store.replayedLetterCount(dlqTopic: "dlq") == 2)

        // The process died: the next replay finds the run still `running` and closes it.
        #expect(try store.interruptAbandonedReplayRuns(at: t0) == [run.id])
        let interrupted = try #require(try store.latestInterruptedReplayRun(dlqTopic: "dlq"))
        #expect(interrupted.id == run.id)
        #expect(interrupted.cursor == [0: 6, 1: 0])
        #expect(interrupted.counts == ReplayCounts(scanned: 4, matched: 3, replayed: 2, skipped: 1))
        #expect(interrupted.note != nil)
        #expect(try store.latestInterruptedReplayRun(dlqTopic: "other") == nil)

        // Resumed, replays the same letter again under a later run id, and completes.
        try store.setReplayRunStatus(run.id, .running, note: nil, at: t0)
        let later = try store.startReplayRun(dlqTopic: "dlq", actor: "ops", options: "{}", targetTopic: "t", scope: [:], cursor: [:], at: t0)
        try store.recordReplayProgress(runID: later.id, dlqTopic: "dlq", replayed: [(0, 5, "c")], cursor: [:], counts: ReplayCounts(), at: t0)
        #expect(try store.replayedLetters(dlqTopic: "dlq", partition: 0, offsets: 5...5) == [5: ReplayedLetter(offset: 5, runID: later.id, fingerprint: "c")],
                "the latest run that replayed it, and which letter sat there")
        try store.recordReplayProgress(runID: run.id, dlqTopic: "dlq", replayed: [], cursor: [0: 10, 1: 4], counts: ReplayCounts(scanned: 12), at: t0)
        try store.setReplayRunStatus(run.id, .completed, note: nil, at: Timestamp(epochMilliseconds: t0.epochMilliseconds + 5))
        let runs = try store.replayRuns(limit: 10)
        #expect(runs.map(\.id) == [later.id, run.id], "newest first")
        let finished = try #require(runs.last)
        #expect(finished.status == .completed)
        #expect(finished.isAtEnd)
        #expect(finished.finishedAt == Timestamp(epochMilliseconds: t0.epochMilliseconds + 5))
        #expect(runs.first?.targetTopic == "t")
        #expect(throws: StoreError.self) { try store.setReplayRunStatus(999, .completed, note: nil, at: t0) }
    }
}
