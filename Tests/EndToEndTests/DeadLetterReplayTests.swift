import Foundation
import Kafka
import Logging
import Testing

/// `crmsync dlq list|show|stats|replay` against the real binary, the dev broker and `crmsync run`.
@Suite("DLQ: list, show, stats and replay through the binary", .serialized, .timeLimit(.minutes(5)))
struct DeadLetterReplayTests {
    static func contact(_ id: String, fields: String) -> [UInt8] {
        Array(#"{"event_id":"\#(id)","source":"crm","system":"salesforce","type":"contact.upserted","occurred_at":"2026-11-20T10:00:00Z","entity":"contact","external_id":"\#(id)","fields":\#(fields)}"#.utf8)
    }

    /// Runs `body` on a fresh pipeline and always shuts it down afterwards.
    func withPipeline(_ body: (LivePipeline) async throws -> Void) async throws {
        let pipeline = try await LivePipeline(name: "dlq", batchSize: 50)
        do {
            try await body(pipeline)
        } catch {
            await pipeline.stop()
            throw error
        }
        await pipeline.stop()
    }

    /// Publishes poison `letters`, waits until they are all on the DLQ, then starts a
    /// rate-limited `dlq replay` and returns it once it has reported progress (part way through).
    func replayUnderWay(_ pipeline: LivePipeline, letters: [(topic: String, key: String, value: [UInt8])]) async throws -> ProcessorProcess {
        for letter in letters {
            try await pipeline.send(letter.topic, key: letter.key, bytes: letter.value)
        }
        try await pipeline.waitUntilProcessed(letters.count)
        _ = try await pipeline.letters(letters.count)
        let replay = try ProcessorProcess(arguments: ["dlq", "replay", "--rate", "20", "--log-level", "warning"] + pipeline.common, directory: repositoryRoot)
        try #require(await replay.waitForLine(containing: "replay: scanned") != nil, "no progress line from dlq replay")
        return replay
    }

    func json(_ result: CommandResult) throws -> Any {
        #expect(result.status == 0, "exit \(result.status): \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test("list/show/stats describe the letters; a dry run changes nothing; fix forward applies the letter exactly once")
    func fixForward() async throws {
        try await withPipeline { pipeline in
            let unmapped = Self.contact("003U", fields: #"{"email":"una@example.org","industry":"Underwater Basket Weaving"}"#)
            let truncated = Array(#"{"event_id":"003T","source":"crm","#.utf8)
            try await pipeline.send("crm.events.v1", key: "003U", bytes: unmapped, headers: [KafkaHeader(name: "trace-id", value: [0, 255, 7])])
            try await pipeline.send("crm.events.v1", key: "003T", bytes: truncated)
            try await pipeline.send("crm.events.v1", key: "003V", bytes: Self.contact("003V", fields: #"{"email":"val@example.org"}"#))
            try await pipeline.waitUntilProcessed(3)
            #expect(try await pipeline.events()["dead_lettered"] == 2)
            _ = try await pipeline.letters(2)

            // list: both letters, with class, source and original position.
            let listed = try #require(try json(await crmsync(["dlq", "list", "--json"] + pipeline.common)) as? [[String: Any]])
            #expect(listed.count == 2)
            #expect(Set(listed.compactMap { $0["error_class"] as? String }) == ["unmapped-value", "malformed-json"])
            #expect(listed.allSatisfy { $0["source"] as? String == "crm" && $0["original_topic"] as? String == "crm.events.v1" })
            let limited = try #require(try json(await crmsync(["dlq", "list", "--json", "--limit", "1"] + pipeline.common)) as? [[String: Any]])
            #expect(limited.count == 1)
            let filtered = try #require(try json(await crmsync(["dlq", "list", "--json", "--class", "unmapped-value"] + pipeline.common)) as? [[String: Any]])
            #expect(filtered.count == 1)
            let byKey = try #require(try json(await crmsync(["dlq", "list", "--json", "--key", "003T"] + pipeline.common)) as? [[String: Any]])
            #expect(byKey.map { $0["error_class"] as? String } == ["malformed-json"])
            let future = try #require(try json(await crmsync(["dlq", "list", "--json", "--since", "2099-01-01T00:00:00Z"] + pipeline.common)) as? [[String: Any]])
            #expect(future.isEmpty)
            let recent = try #require(try json(await crmsync(["dlq", "list", "--json", "--since", "1h", "--source", "crm"] + pipeline.common)) as? [[String: Any]])
            #expect(recent.count == 2)

            // show: the original bytes and headers, untouched.
            let position = try #require(filtered.first?["position"] as? String)
            let shown = try #require(try json(await crmsync(["dlq", "show", position, "--json"] + pipeline.common)) as? [String: Any])
            let value = try #require(shown["value"] as? [String: Any])
            #expect(Data(base64Encoded: value["base64"] as? String ?? "").map(Array.init) == unmapped)
            let headers = try #require(shown["headers"] as? [[String: Any]])
            let trace = try #require(headers.first { $0["name"] as? String == "trace-id" }?["value"] as? [String: Any])
            #expect(trace["base64"] as? String == Data([0, 255, 7]).base64EncodedString())
            #expect(headers.contains { $0["name"] as? String == "crmsync.error.field" })

            // stats: histograms.
            let stats = try #require(try json(await crmsync(["dlq", "stats", "--json"] + pipeline.common)) as? [String: Any])
            #expect(stats["total"] as? Int == 2)
            #expect(stats["by_class"] as? [String: Int] == ["unmapped-value": 1, "malformed-json": 1])
            #expect(stats["by_source"] as? [String: Int] == ["crm": 2])
            #expect(stats["by_age"] as? [String: Int] == ["<1h": 2])
            #expect((stats["runs"] as? [Any])?.isEmpty == true)

            // A dry run lists the letter and changes nothing: no record on any topic, no run recorded.
            let sourceBefore = try await pipeline.highWatermarks("crm.events.v1", partitions: 6)
            let dry = try #require(try json(await crmsync(["dlq", "replay", "--dry-run", "--class", "unmapped-value", "--json"] + pipeline.common)) as? [String: Any])
            #expect((dry["would_replay"] as? [[String: Any]])?.map { $0["position"] as? String } == [position])
            #expect(try await pipeline.highWatermarks("crm.events.v1", partitions: 6) == sourceBefore)
            let afterDry = try #require(try json(await crmsync(["dlq", "stats", "--json"] + pipeline.common)) as? [String: Any])
            #expect((afterDry["runs"] as? [Any])?.isEmpty == true, "a dry run records no run")
            #expect(try await pipeline.events()["total"] == 3)

            // Fix forward: add the mapping, restart the processor with it, replay.
            let config = try writeConfig(in: pipeline.directory, industryMapping: ("Underwater Basket Weaving", "other"))
            try await pipeline.restartProcessor(config: config)
            let replay = try await crmsync(["dlq", "replay", "--class", "unmapped-value", "--actor", "ops@acme", "--json"] + pipeline.common)
            let report = try #require(try json(replay) as? [String: Any])
            #expect(report["replayed"] as? Int == 1)
            #expect(report["skipped"] as? Int == 0)
            try await pipeline.waitUntilProcessed(4)
            let afterReplay = try await pipeline.events()
            #expect(afterReplay["applied"] == 2, "the replayed event is applied")
            #expect(afterReplay["dead_lettered"] == 2, "its first failure stays counted once")
            let record = try #require(try json(await crmsync(["records", "get", "--external", "salesforce:003U", "--json", "--store", pipeline.store])) as? [String: Any])
            #expect((record["fields"] as? [String: Any])?["industry"] as? String == "other")
            let recordID = try #require(record["id"] as? String)
            let trail = try #require(try json(await crmsync(["audit", "--id", recordID, "--json", "--store", pipeline.store])) as? [[String: Any]])

            // The same replay again: the letter was replayed, so it is skipped.
            let second = try #require(try json(await crmsync(["dlq", "replay", "--class", "unmapped-value", "--json"] + pipeline.common)) as? [String: Any])
            #expect(second["replayed"] as? Int == 0)
            #expect(second["skipped"] as? Int == 1)

            // --again publishes it once more: the pipeline knows the event id, so it is a duplicate.
            let again = try #require(try json(await crmsync(["dlq", "replay", "--class", "unmapped-value", "--again", "--json"] + pipeline.common)) as? [String: Any])
            #expect(again["replayed"] as? Int == 1)
            try await pipeline.waitUntilProcessed(5)
            let afterAgain = try await pipeline.events()
            #expect(afterAgain["duplicate"] == 1)
            #expect(afterAgain["applied"] == 2, "no second application")
            let trailAfter = try #require(try json(await crmsync(["audit", "--id", recordID, "--json", "--store", pipeline.store])) as? [[String: Any]])
            #expect(trailAfter.count == trail.count, "a duplicate writes no audit event")
            #expect(try await crmsync(["audit", "verify", "--store", pipeline.store]).status == 0)

            // Every run is recorded with who ran it and its counts; the dry run is not.
            let ledger = try #require(try json(await crmsync(["dlq", "stats", "--json"] + pipeline.common)) as? [String: Any])
            let runs = try #require(ledger["runs"] as? [[String: Any]])
            #expect(runs.count == 3)
            #expect(runs.map { $0["replayed"] as? Int } == [1, 0, 1], "newest first")
            #expect(runs.last?["actor"] as? String == "ops@acme")
            #expect(runs.allSatisfy { $0["status"] as? String == "completed" })
            #expect(ledger["replayed_letters"] as? Int == 1)
            let shownAfter = try #require(try json(await crmsync(["dlq", "show", position, "--json"] + pipeline.common)) as? [String: Any])
            #expect(shownAfter["replayed_by_run"] as? Int == runs.first?["id"] as? Int)
        }
    }

    @Test("a letter that fails again returns with its replay count raised; --max-replays stops the loop")
    func replayLoopGuard() async throws {
        try await withPipeline { pipeline in
            let poison = Array(#"{"event_id":"P1","source":"crm","#.utf8)
            try await pipeline.send("crm.events.v1", key: "P1", bytes: poison, headers: [KafkaHeader(name: "origin", string: "test")])
            try await pipeline.waitUntilProcessed(1)
            _ = try await pipeline.letters(1)

            let first = try #require(try json(await crmsync(["dlq", "replay", "--max-replays", "1", "--json"] + pipeline.common)) as? [String: Any])
            #expect(first["replayed"] as? Int == 1)
            try await pipeline.waitUntilProcessed(2)
            let letters = try await pipeline.letters(2)
            #expect(letters.count == 2)
            let counts = letters.map { $0.headers.string("crmsync.replay.count") }
            #expect(Set(counts) == ["0", "1"])
            let reletter = try #require(letters.first { $0.headers.string("crmsync.replay.count") == "1" })
            #expect(reletter.value == poison, "the bytes are the original bytes")
            #expect(reletter.headers.filter { $0.name == "origin" }.map(\.stringValue) == ["test"], "original headers kept, once")
            #expect(reletter.headers.filter { $0.name == "crmsync.error.class" }.count == 1)

            // The new letter is at the limit, the old one was replayed: nothing goes.
            let guarded = try #require(try json(await crmsync(["dlq", "replay", "--max-replays", "1", "--json"] + pipeline.common)) as? [String: Any])
            #expect(guarded["replayed"] as? Int == 0)
            #expect(guarded["skipped"] as? Int == 2)
            // --again overrides the ledger but never the loop guard.
            let again = try #require(try json(await crmsync(["dlq", "replay", "--max-replays", "1", "--again", "--json"] + pipeline.common)) as? [String: Any])
            #expect(again["replayed"] as? Int == 1)
            #expect(again["skipped"] as? Int == 1)
            try await pipeline.waitUntilProcessed(3)
            #expect(try await pipeline.letters(3).count == 3)
            #expect(try await pipeline.events()["dead_lettered"] == 3)
        }
    }

    @Test("an interrupted replay resumes where it stopped: every letter replayed exactly once")
    func interruptedReplayResumes() async throws {
        try await withPipeline { pipeline in
            let letterCount = 60
            let replay = try await replayUnderWay(pipeline, letters: (0..<letterCount).map {
                ("map.events.v1", "K\($0)", Array(#"{"event_id":"M\#($0)","source":"map","type":"#.utf8))
            })
            #expect(await replay.signal(SIGINT) == 130, "a stopped replay exits 130")
            let stats = try #require(try json(await crmsync(["dlq", "stats", "--json"] + pipeline.common)) as? [String: Any])
            let run = try #require((stats["runs"] as? [[String: Any]])?.first)
            #expect(run["status"] as? String == "interrupted")
            let done = try #require(run["replayed"] as? Int)
            #expect(done > 0 && done < letterCount, "stopped part way (replayed \(done))")

            let resumed = try #require(try json(await crmsync(["dlq", "replay", "--resume", "--json"] + pipeline.common)) as? [String: Any])
            let resumedRun = try #require(resumed["run"] as? [String: Any])
            #expect(resumedRun["id"] as? Int == run["id"] as? Int, "the same run continues")
            #expect(resumedRun["status"] as? String == "completed")
            #expect(resumed["replayed"] as? Int == letterCount)
            let nothingLeft = try await crmsync(["dlq", "replay", "--resume"] + pipeline.common)
            #expect(nothingLeft.status == 1)
            #expect(nothingLeft.stderr.contains("no interrupted replay run"))

            // Each original letter went exactly once: it failed again, so the DLQ holds one copy
            // with replay count 1 per original offset.
            try await pipeline.waitUntilProcessed(2 * letterCount)
            let letters = try await pipeline.letters(2 * letterCount)
            #expect(letters.count == 2 * letterCount)
            let replayedAgain = letters.filter { $0.headers.string("crmsync.replay.count") == "1" }
            // Keys are distinct per original letter and replays keep them.
            let keys = replayedAgain.map { String(decoding: $0.key ?? [], as: UTF8.self) }
            #expect(replayedAgain.count == letterCount)
            #expect(Set(keys) == Set((0..<letterCount).map { "K\($0)" }))
        }
    }

    @Test("a replay killed mid-run is found abandoned, marked interrupted and resumed: every letter goes at least once")
    func killedReplayResumes() async throws {
        try await withPipeline { pipeline in
            let letterCount = 40
            let replay = try await replayUnderWay(pipeline, letters: (0..<letterCount).map {
                ("billing.events.v1", "B\($0)", Array("not json \($0)".utf8))
            })
            _ = await replay.signal(SIGKILL)
            let resumed = try await crmsync(["dlq", "replay", "--resume", "--json"] + pipeline.common)
            #expect(resumed.stderr.contains("had stopped without finishing"), "\(resumed.stderr)")
            let report = try #require(try json(resumed) as? [String: Any])
            #expect((report["run"] as? [String: Any])?["status"] as? String == "completed")
            let replayed = try #require(report["replayed"] as? Int)
            // At least once; at most the one chunk in flight when it died (--rate 20 records every 10) again.
            #expect(replayed >= letterCount && replayed <= letterCount + 10, "replayed \(replayed) of \(letterCount)")

            // Every original key came back at least once with replay count 1.
            let letters = try await pipeline.letters(letterCount + replayed)
            let keys = Set(letters.filter { $0.headers.string("crmsync.replay.count") == "1" }.map { String(decoding: $0.key ?? [], as: UTF8.self) })
            #expect(keys == Set((0..<letterCount).map { "B\($0)" }))
        }
    }

    @Test("bad usage and impossible replays fail with one line; stray records on the DLQ are left alone")
    func usageErrors() async throws {
        try await withPipeline { pipeline in
            let badClass = try await crmsync(["dlq", "replay", "--class", "nope"] + pipeline.common)
            #expect(badClass.status == 2)
            #expect(badClass.stderr.contains("unknown error class \"nope\""))
            let resumeWithFilter = try await crmsync(["dlq", "replay", "--resume", "--source", "crm"] + pipeline.common)
            #expect(resumeWithFilter.status == 2)
            let missingTarget = try await crmsync(["dlq", "replay", "--to", "no.such.topic"] + pipeline.common)
            #expect(missingTarget.status == 2)
            #expect(missingTarget.stderr.contains("no.such.topic does not exist"))
            for rate in ["0", "inf", "-5"] {
                let badRate = try await crmsync(["dlq", "replay", "--rate=\(rate)"] + pipeline.common)
                #expect(badRate.status == 2, "--rate \(rate): \(badRate.stderr)")
            }
            let badTime = try await crmsync(["dlq", "list", "--since", "yesterday"] + pipeline.common)
            #expect(badTime.status == 2)
            #expect(badTime.stderr.split(separator: "\n").count == 1)
            let missing = try await crmsync(["dlq", "show", "0:999"] + pipeline.common)
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("no record at dlq.events.v1 0:999"))

            // A letter whose original topic is gone: the run stops with one line and is recorded
            // as interrupted; `--to` sends it elsewhere. A record without crmsync headers is left alone.
            try await pipeline.producer.send(ProducerMessage(topic: "dlq.events.v1", partition: 0, key: Array("G1".utf8), value: Array("{}".utf8), headers: [
                KafkaHeader(name: "crmsync.error.class", string: "schema"), KafkaHeader(name: "crmsync.original.topic", string: "gone.events.v1"),
                KafkaHeader(name: "crmsync.original.partition", string: "0"), KafkaHeader(name: "crmsync.original.offset", string: "5"),
            ]))
            try await pipeline.producer.send(ProducerMessage(topic: "dlq.events.v1", partition: 0, key: nil, value: Array("stray".utf8)))
            let gone = try await crmsync(["dlq", "replay"] + pipeline.common)
            #expect(gone.status == 1)
            #expect(gone.stderr.contains("original topic gone.events.v1 does not exist (use --to TOPIC)"), "\(gone.stderr)")
            #expect(gone.stderr.split(separator: "\n").count == 1, "\(gone.stderr)")
            let stats = try #require(try json(await crmsync(["dlq", "stats", "--json"] + pipeline.common)) as? [String: Any])
            #expect((stats["runs"] as? [[String: Any]])?.first?["status"] as? String == "interrupted")
            #expect(stats["unreadable"] as? Int == 1)
            let redirected = try #require(try json(await crmsync(["dlq", "replay", "--to", "crm.events.v1", "--json"] + pipeline.common)) as? [String: Any])
            #expect(redirected["replayed"] as? Int == 1)
            #expect(redirected["unreadable"] as? [String] == ["0:1"])
            try await pipeline.waitUntilProcessed(1)
        }
    }

    /// A config file whose picklists add `vendor → slug` to the industry map for any system
    /// (the shipped table's `"*"` section), as an operator fixing forward would.
    func writeConfig(in directory: URL, industryMapping: (vendor: String, slug: String)) throws -> String {
        let original = try String(contentsOfFile: repositoryRoot + "/config/picklists.yml", encoding: .utf8)
        guard let industry = original.range(of: "\n  industry:\n"),
              let anySystem = original.range(of: "\n      \"*\":\n", range: industry.upperBound..<original.endIndex) else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var patched = original
        patched.insert(contentsOf: "        \(industryMapping.vendor): \(industryMapping.slug)\n", at: anySystem.upperBound)
        let fixed = directory.appendingPathComponent("fixed")
        try FileManager.default.createDirectory(at: fixed, withIntermediateDirectories: true)
        let picklists = fixed.appendingPathComponent("picklists.yml").path
        try patched.write(toFile: picklists, atomically: true, encoding: .utf8)
        return try FailureSupport.writeConfig(in: fixed, mappings: picklists)
    }
}
